#pragma once
// The contract between a STOMP session core (session.hpp) and the transport that owns its
// socket (tcp_transport, ws_transport, or a fake in unit tests).
//
// The transport feeds received octets to session::on_bytes() and writes what
// session::collect_output() hands it; the session tells the transport when output is
// waiting, when it wants a timer, and how to end the connection. Every call in both
// directions happens on the session's strand.
#include "gateway/ports.hpp"

namespace chat::gateway {

class transport {
 public:
  virtual ~transport() = default;

  // The outbound queue is not empty: start a write unless one is in flight. The transport
  // calls session::collect_output() now or when its current write completes.
  virtual void output_ready() = 0;

  // Call session::on_timer() at `deadline` or soon after. An earlier request replaces a
  // later one; a later request may be ignored (on_timer() asks again for what is left).
  virtual void schedule(time_point deadline) = 0;

  // Stop delivering bytes, write everything queued, then close politely (TCP: half-close
  // and drain the peer for a moment so that it reads the last frame; WebSocket: close
  // handshake). Idempotent.
  virtual void close_after_flush() = 0;

  // Close now and drop whatever is queued (slow consumer, stalled write). Idempotent.
  virtual void abort() = 0;

  // The session had paused reading (wants_bytes() was false) and wants bytes again.
  virtual void resume_reading() = 0;

  // The session has left the awaiting-CONNECT phase: it accepted a CONNECT (valid token)
  // or is closing without one. Called at most once. A transport that caps connections
  // still in their handshake (STOMP/TCP: --max-stomp-handshakes) stops counting this one
  // here; the others need not care.
  virtual void handshake_finished() {}
};

// A transport's half of an eviction by the handshake gate: `linger` (whether the close
// waits for the peer) is cleared before the session is asked, because the ERROR's write may
// complete and start the close before evict_handshake() returns; it is set again when the
// session declines (its CONNECT arrived in the meantime). True when evicted.
template <class Session>
bool evict_without_linger(Session& core, bool& linger) {
  linger = false;
  if (core.evict_handshake()) return true;
  linger = true;
  return false;
}

}  // namespace chat::gateway
