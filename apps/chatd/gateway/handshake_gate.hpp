#pragma once
// --max-stomp-handshakes: ONE cap on the STOMP sessions that have not left the
// awaiting-CONNECT phase, shared by both transports (STOMP/TCP and STOMP over WebSocket
// after the upgrade). Past the cap the oldest such connection gets ERROR "handshake
// capacity exceeded" and is closed, to admit the new one.
//
//   handshake_gate     the oldest-first set (pending_set) behind a mutex, plus the counters.
//   gated_transport    the base of tcp_connection and ws_connection: embeds the set's hook
//                      and a weak self-reference (no allocation per connection), joins the
//                      gate before its session starts, leaves it on handshake_finished(),
//                      close or destruction, and runs an eviction on its own strand.
//
// Strand discipline: a connection is tracked on the strand that accepted it (the TCP
// listener's; for WebSocket the HTTP connection's, which becomes the session's). The victim
// is chosen under the gate's mutex (O(1), no I/O, no virtual call into a connection that
// may be dying: only its weak pointer is locked), and its eviction is posted to the
// victim's own strand, outside the mutex.
#include "gateway/pending_set.hpp"
#include "gateway/transport.hpp"

#include <boost/asio/any_io_executor.hpp>

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>

namespace chat::gateway {

class gated_transport;

// Thread-safe (a mutex around O(1) list operations).
class handshake_gate {
 public:
  explicit handshake_gate(std::size_t limit) : pending_(limit) {}
  handshake_gate(const handshake_gate&) = delete;
  handshake_gate& operator=(const handshake_gate&) = delete;

  // Tracks `c` (newest; `c` must not be tracked). Returns the connection to evict when the
  // limit is passed: the oldest one still alive, no longer tracked (or null).
  std::shared_ptr<gated_transport> admit(gated_transport& c);
  // Stops tracking `c`. Idempotent; safe from `c`'s destructor.
  void leave(gated_transport& c) noexcept;
  // An evicted connection was closed (its session still awaited CONNECT): counts it and
  // logs one line per 1000 (a flood must not flood the log too). Returns the total.
  std::uint64_t count_eviction();

  std::size_t limit() const noexcept { return pending_.limit(); }
  std::size_t pending() const;
  std::uint64_t evicted() const noexcept { return evicted_.load(std::memory_order_relaxed); }

 private:
  mutable std::mutex mutex_;
  pending_set pending_;  // guarded by mutex_; every hook is a gated_transport
  std::atomic<std::uint64_t> evicted_{0};
};

// A transport whose connections count towards a handshake_gate (null: no cap).
class gated_transport : public transport, public pending_hook {
 public:
  gated_transport(const gated_transport&) = delete;
  gated_transport& operator=(const gated_transport&) = delete;

  // The session left awaiting-CONNECT: no longer counted.
  void handshake_finished() final { leave_handshake(); }

 protected:
  explicit gated_transport(std::shared_ptr<handshake_gate> gate) noexcept : gate_(std::move(gate)) {}
  // Leaves the gate (the derived connection is gone already: the gate then finds `self`
  // expired and skips this one).
  ~gated_transport() override;

  // Once, on the accepting strand, before the session can report handshake_finished():
  // counts this connection as awaiting CONNECT. Past the limit the oldest one is evicted on
  // its own strand. `self` is this connection (kept as a weak pointer).
  void track_handshake(const std::shared_ptr<gated_transport>& self);
  // On this connection's strand, right after session::start(): an eviction that arrived
  // earlier (tracked on another strand than its own, a TCP connection can be picked before
  // its start handler ran) is carried out now.
  void handshake_session_started();
  // Stops counting. Idempotent (close, handshake_finished(), destruction).
  void leave_handshake() noexcept {
    if (gate_) gate_->leave(*this);
  }

  // On this connection's strand, with the session started: when the session still awaits
  // CONNECT, send it ERROR "handshake capacity exceeded" (session::evict_handshake()) and
  // close without a linger; returns whether it did.
  virtual bool evict_handshake() = 0;
  // The connection's strand. Called on another strand, with the connection kept alive.
  virtual boost::asio::any_io_executor handshake_strand() = 0;

 private:
  friend class handshake_gate;
  void on_evicted();  // strand

  const std::shared_ptr<handshake_gate> gate_;
  std::weak_ptr<gated_transport> self_;  // set before admit(); read under the gate's mutex
  bool started_ = false;                 // strand
  bool evict_on_start_ = false;          // strand
};

}  // namespace chat::gateway
