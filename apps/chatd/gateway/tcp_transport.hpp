#pragma once
// STOMP over plain TCP (docs/stomp.md, port 61613 by convention).
//
// tcp_connection owns the socket of one session. It waits for readability instead of
// keeping a read buffer per connection (an idle session holds no buffer), then reads into
// a per-thread buffer and feeds the session. Writes gather the queued frames (shared
// fan-out tails included, never copied) into one async_write.
//
// Closing politely (after ERROR or DISCONNECT): write what is queued, shut down the sending
// side, and drain the peer for up to `linger` so that the last frame is not destroyed by an
// RST; then close.
//
// Connections whose session still awaits CONNECT count towards the gateway's
// handshake_gate (--max-stomp-handshakes, shared with STOMP over WebSocket); past the cap
// the oldest of them gets ERROR "handshake capacity exceeded" and is closed without the
// linger, to admit the new one.
#include "gateway/handshake_gate.hpp"
#include "gateway/session.hpp"
#include "gateway/session_timer.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

namespace chat::gateway {

// Makes the session core of a new connection, bound to the connection's strand.
using session_factory = std::function<std::shared_ptr<session>(const boost::asio::any_io_executor& strand)>;

inline constexpr std::chrono::milliseconds close_linger{2000};

class tcp_connection final : public gated_transport, public std::enable_shared_from_this<tcp_connection> {
 public:
  // `socket`'s executor must be a strand; `core` must be bound to the same strand. `gate`
  // (may be null: no cap) counts the connection until its session leaves awaiting-CONNECT.
  tcp_connection(boost::asio::ip::tcp::socket socket, std::shared_ptr<session> core,
                 std::shared_ptr<handshake_gate> gate = nullptr);

  // Called once, on the listener's strand (connections with a gate are tracked in the order
  // of their start(), i.e. of their accept); the rest runs on the connection's strand.
  void start();

  void output_ready() override;
  void schedule(time_point deadline) override;
  void close_after_flush() override;
  void abort() override;
  void resume_reading() override;

 private:
  bool evict_handshake() override;
  boost::asio::any_io_executor handshake_strand() override { return socket_.get_executor(); }
  void on_start();
  void do_wait_read();
  void on_readable(const boost::system::error_code& ec);
  void do_write();
  void on_write(const boost::system::error_code& ec);
  void on_timer();
  void half_close();
  void finish();

  boost::asio::ip::tcp::socket socket_;
  std::shared_ptr<session> core_;
  session_timer timer_;
  std::vector<boost::asio::const_buffer> write_buffers_;
  std::size_t write_frames_ = 0;
  bool read_waiting_ = false;
  bool writing_ = false;
  bool closing_ = false;  // flush, then half-close
  bool half_closed_ = false;
  bool closed_ = false;
  bool linger_ = true;  // false once evicted: a flood connection gets no 2 s of our time
  time_point linger_until_{};
};

// Accepts STOMP/TCP connections, each on its own strand. Those awaiting CONNECT count
// towards `gate` (may be null: no cap), shared with the WebSocket side. `send_buffer`
// (--socket-send-buffer; 0 = the kernel's autotuning) is each connection's SO_SNDBUF.
class tcp_listener : public std::enable_shared_from_this<tcp_listener> {
 public:
  tcp_listener(boost::asio::io_context& ioc, boost::asio::ip::tcp::endpoint ep, session_factory make_session,
               std::shared_ptr<handshake_gate> gate = nullptr, int send_buffer = 0);

  // Binds and listens; throws boost::system::system_error when the port is taken.
  void start();
  // Stops accepting (open connections are not touched). Thread-safe, idempotent.
  void stop();
  boost::asio::ip::tcp::endpoint local_endpoint() const;

 private:
  void do_accept();

  boost::asio::io_context& ioc_;
  boost::asio::ip::tcp::acceptor acceptor_;
  boost::asio::steady_timer backoff_;
  boost::asio::ip::tcp::endpoint endpoint_;
  session_factory make_session_;
  std::shared_ptr<handshake_gate> gate_;
  const int send_buffer_;
  std::atomic<bool> stopped_{false};
};

}  // namespace chat::gateway
