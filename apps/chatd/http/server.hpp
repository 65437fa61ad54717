#pragma once
// HTTP/1.1 server on Boost.Beast: keep-alive, bounded request sizes, read timeouts,
// JSON errors for bad requests. WebSocket upgrades are handed to `upgrade_handler`. Every
// answered request is reported (exchange_observer) and logged at debug level.
#include "http/router.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/tcp_stream.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string_view>

namespace chat::http {

struct server_limits {
  std::size_t max_body_bytes = 64 * 1024;            // larger -> 413
  std::size_t max_header_bytes = 16 * 1024;          // larger -> 431
  std::chrono::milliseconds request_timeout{30000};  // a request (the first one too) must arrive within this
  std::chrono::milliseconds idle_timeout{75000};     // keep-alive connection idle limit
  // Connections whose first request has not arrived yet ("handshakes": a REST call or the
  // /ws upgrade). Past this many the oldest of them is closed to admit the new one, so a
  // flood of half-open connections costs bounded memory and cannot lock out real clients,
  // whose first request arrives within milliseconds. (chatd: --max-http-handshakes)
  std::size_t max_pending_handshakes = 1024;
  // Streaming responses (types.hpp stream_writer): bytes queued and not yet taken by the socket
  // past which the reader is dropped as slow, and how long one write may stall.
  std::size_t max_stream_buffer = 256 * 1024;
  std::chrono::milliseconds stream_stall_timeout{20000};
};

struct handshake_queue;  // server.cpp

// Tells the server how an upgrade request was answered (101, or the error status written)
// and how many bytes that took, once the answer is written; then it counts as one request
// (route "/ws"). Call at most once, from any thread.
using upgrade_answered = std::function<void(status, std::size_t bytes)>;

// Takes over the connection of an upgrade request (e.g. WebSocket at /ws).
using upgrade_handler = std::function<void(boost::beast::tcp_stream&&, request&&, upgrade_answered)>;

// The route label of a WebSocket upgrade at /ws (other upgrade targets are unmatched_route).
inline constexpr std::string_view websocket_route = "/ws";

// One answered HTTP request, reported once its response is written (or its write failed):
// the RED metrics and the access log line.
struct exchange {
  verb method;
  std::string_view route;  // the router's pattern, unmatched_route or websocket_route
  unsigned status;
  std::chrono::steady_clock::duration duration;  // request read -> response written
  std::size_t bytes;                             // response bytes written, headers included
};
// Runs on the connection's strand (an I/O thread): must not block.
using exchange_observer = std::function<void(const exchange&)>;

class server : public std::enable_shared_from_this<server> {
 public:
  server(boost::asio::io_context& ioc, boost::asio::ip::tcp::endpoint ep, const router& routes, server_limits limits,
         upgrade_handler on_upgrade);

  // Binds and listens; throws boost::system::system_error when the port is taken.
  void start();
  // Stops accepting. Open keep-alive connections end at their next request or timeout.
  void stop();

  boost::asio::ip::tcp::endpoint local_endpoint() const;

  // Sees every answered request (before start()). Each is also an access log line at debug
  // level: method, route pattern, status, duration, bytes (never a header or the query).
  void on_exchange(exchange_observer fn) { observer_ = std::move(fn); }

  // Connections closed because max_pending_handshakes was reached. Any thread.
  std::uint64_t evicted_handshakes() const noexcept;
  // Connections waiting for their first request now. Any thread.
  std::size_t pending_handshakes() const;

 private:
  void do_accept();
  void on_accept(boost::beast::error_code ec, boost::asio::ip::tcp::socket socket);

  boost::asio::io_context& ioc_;
  boost::asio::ip::tcp::acceptor acceptor_;
  boost::asio::steady_timer accept_backoff_;
  boost::asio::ip::tcp::endpoint endpoint_;
  const router& routes_;
  server_limits limits_;
  upgrade_handler on_upgrade_;
  exchange_observer observer_;
  std::atomic<bool> stopped_{false};
  std::shared_ptr<handshake_queue> pending_;  // shared with the sessions (weakly)
};

}  // namespace chat::http
