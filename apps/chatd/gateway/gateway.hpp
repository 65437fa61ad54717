#pragma once
// The STOMP gateway of one chatd node (docs/stomp.md): listeners (TCP, WebSocket upgrade), the
// session core, the per-node fan-out and presence. Its outside services (database lookups,
// Redis presence and bus) come in through node_services (ports.hpp);
// gateway_adapters/make_gateway.hpp builds it from chatd's configuration. app.cpp runs it:
//
//   auto gw = make_gateway(ioc, cfg, pool, message_log, admission, &metrics);
//   gw->start();                                   // threads, TCP listener (throws if the port is taken)
//   http::server(..., gw.ws_upgrade_handler());   // /ws
//   ... SIGTERM:
//   gw.stop_accepting();                          // no new connections, no new frames
//   (flush the Kafka producer: in-flight SENDs get their RECEIPT)
//   gw.shutdown(budget);                          // ERROR "server shutting down", drain, stop threads
//
// Threads: the I/O threads run the sessions (one strand each); one Redis subscriber thread
// (redis_subscriber); one presence/typing writer thread (presence_service); database
// lookups on the shared db_pool.
#include "core/admission_gate.hpp"
#include "core/log_positions.hpp"
#include "core/message_keys.hpp"
#include "core/message_log.hpp"
#include "gateway/ports.hpp"
#include "gateway/room_feed.hpp"
#include "gateway/session.hpp"
#include "gateway/user_registry.hpp"
#include "gateway/ws_transport.hpp"
#include "http/server.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <chrono>
#include <cstdint>
#include <memory>

namespace chat::metrics {
struct chat_metrics;
}

namespace chat::gateway {

struct gateway_options {
  std::string node_id;
  session_settings session;
  user_limits users;
  boost::asio::ip::tcp::endpoint stomp_endpoint;  // --stomp-host, --stomp-port
  std::size_t max_stomp_handshakes = 0;           // --max-stomp-handshakes
  ws_options ws;
  // Told every room event the fan-out brings (core/recent_messages.hpp); may be null. Outlives
  // the gateway.
  chatd::recent_messages* recent = nullptr;
  // Where chat.messages ends, for recovery on SUBSCRIBE with since-id; may be null (recoveries
  // then end recovered:false). Outlives the gateway.
  chatd::log_positions* positions = nullptr;
  // Answers retried messageKeys (core/message_keys.hpp); may be null (a retry then gets its own
  // record's id). Outlives the gateway.
  chatd::message_keys* keys = nullptr;
  room_feed_settings feed;  // --sse-replay
  // Token revocation (session_env::revocations, live_tokens); may be null; outlive the gateway.
  const chatd::tokens::revocation_cache* revocations = nullptr;
  chatd::tokens::live_tokens* live_tokens = nullptr;
};

class gateway {
 public:
  // `make_services` runs once, here. `metrics` (may be null) must outlive this object;
  // sessions stop using it when it dies.
  // `admission` (shared with the REST publishers) must outlive every session.
  gateway(boost::asio::io_context& ioc, gateway_options options, chatd::message_log& log,
          chatd::admission_gate& admission, const node_services_factory& make_services,
          metrics::chat_metrics* metrics = nullptr);
  ~gateway();
  gateway(const gateway&) = delete;
  gateway& operator=(const gateway&) = delete;

  // Starts the Redis threads and the STOMP/TCP listener on cfg.stomp_host:stomp_port.
  // Throws boost::system::system_error when the port cannot be bound.
  void start();

  // For http::server: takes over upgrade requests (/ws; other targets get 404).
  http::upgrade_handler ws_upgrade_handler();

  // Shutdown phase 1 (any thread): stop accepting connections and stop reading frames.
  void stop_accepting();
  // Shutdown phase 2 (any thread but an I/O thread; blocks up to `budget`): every session
  // gets ERROR "server shutting down" and is closed once its queue is written; sessions
  // still open at the deadline are aborted. Then presence withdraws this node (OFFLINE
  // for its users) and the Redis threads stop.
  void shutdown(std::chrono::milliseconds budget);

  std::uint16_t stomp_port() const;
  std::size_t open_sessions() const;
  // STOMP connections (TCP, and WebSocket after the upgrade) awaiting CONNECT now, and
  // those closed because --max-stomp-handshakes was reached. Any thread.
  std::size_t pending_handshakes() const;
  std::uint64_t evicted_handshakes() const;
  const gateway_stats& stats() const;
  // The node's live room lists (/user/queue/rooms; GET /api/rooms/stream attaches to it).
  room_feed& feed();

 private:
  struct node;
  boost::asio::io_context& ioc_;
  std::shared_ptr<node> node_;
};

}  // namespace chat::gateway
