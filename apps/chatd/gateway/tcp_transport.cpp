#include "gateway/tcp_transport.hpp"

#include <chat/log/log.hpp>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/write.hpp>

#include <array>

namespace chat::gateway {

namespace net = boost::asio;
using tcp = net::ip::tcp;

namespace {

constexpr std::size_t max_frames_per_write = 64;
constexpr int max_reads_per_wakeup = 4;  // fairness between connections of one I/O thread
constexpr std::size_t read_chunk = 16 * 1024;

}  // namespace

// ---- connection -----------------------------------------------------------------------------

tcp_connection::tcp_connection(tcp::socket socket, std::shared_ptr<session> core, std::shared_ptr<handshake_gate> gate)
    : gated_transport(std::move(gate)),
      socket_(std::move(socket)),
      core_(std::move(core)),
      timer_(socket_.get_executor()) {}

void tcp_connection::start() {
  // Tracked here, on the listener's strand: in accept order, and before the session runs
  // (it cannot report handshake_finished() before it is tracked). An eviction may reach
  // this connection's strand before on_start() (the gate is shared with WebSocket
  // connections, which are tracked on their own strands): it waits for
  // handshake_session_started().
  track_handshake(shared_from_this());
  net::dispatch(socket_.get_executor(), [self = shared_from_this()] { self->on_start(); });
}

void tcp_connection::on_start() {
  boost::system::error_code ignored;
  socket_.set_option(tcp::no_delay(true), ignored);
  socket_.set_option(net::socket_base::keep_alive(true), ignored);
  socket_.non_blocking(true, ignored);
  core_->start(*this);
  handshake_session_started();
  do_wait_read();
}

bool tcp_connection::evict_handshake() {
  if (closed_) return false;
  return evict_without_linger(*core_, linger_);
}

void tcp_connection::do_wait_read() {
  if (read_waiting_ || closed_) return;
  if (!closing_ && !core_->wants_bytes()) return;
  read_waiting_ = true;
  socket_.async_wait(tcp::socket::wait_read,
                     [self = shared_from_this()](const boost::system::error_code& ec) { self->on_readable(ec); });
}

void tcp_connection::on_readable(const boost::system::error_code& ec) {
  read_waiting_ = false;
  if (closed_) return;
  if (ec) return finish();
  // One buffer per I/O thread: idle connections hold none.
  thread_local std::array<char, read_chunk> buffer;
  for (int i = 0; i < max_reads_per_wakeup; ++i) {
    boost::system::error_code read_ec;
    const std::size_t n = socket_.read_some(net::buffer(buffer), read_ec);
    if (read_ec == net::error::would_block || read_ec == net::error::try_again) break;
    if (read_ec) return finish();  // EOF or reset
    if (!closing_) core_->on_bytes(std::string_view(buffer.data(), n));
    if (closed_) return;
    if (n < buffer.size() || (!closing_ && !core_->wants_bytes())) break;
  }
  do_wait_read();
}

void tcp_connection::resume_reading() { do_wait_read(); }

void tcp_connection::output_ready() {
  if (!writing_ && !closed_ && !half_closed_) do_write();
}

void tcp_connection::do_write() {
  if (writing_) return;  // one write in flight: what is queued meanwhile goes with the next
  write_buffers_.clear();
  write_frames_ = core_->collect_output(write_buffers_, max_frames_per_write);
  if (write_frames_ == 0) {
    if (closing_) half_close();
    return;
  }
  writing_ = true;
  net::async_write(
      socket_, write_buffers_,
      [self = shared_from_this()](const boost::system::error_code& ec, std::size_t) { self->on_write(ec); });
}

void tcp_connection::on_write(const boost::system::error_code& ec) {
  if (closed_ || ec) {
    writing_ = false;
    if (!closed_) finish();
    return;
  }
  // Still writing while the session hears of it: output it queues now (a recovery's replay
  // pumped as the client reads) must not start a second write on these buffers; it goes with
  // the next one, below.
  core_->on_output_written(write_frames_);
  write_frames_ = 0;
  if (write_buffers_.capacity() > 4 * max_frames_per_write) std::vector<net::const_buffer>().swap(write_buffers_);
  writing_ = false;
  if (closed_) return;
  do_write();
}

void tcp_connection::schedule(time_point deadline) {
  if (closed_) return;
  timer_.arm(deadline, [self = shared_from_this()] { self->on_timer(); });
}

void tcp_connection::on_timer() {
  if (closed_) return;
  if (half_closed_ && steady_clock::now() >= linger_until_) return finish();
  core_->on_timer();
  if (half_closed_ && !closed_) schedule(linger_until_);
}

void tcp_connection::close_after_flush() {
  if (closed_ || closing_) return;
  closing_ = true;
  if (!writing_) do_write();  // half-closes at once when nothing is queued
}

void tcp_connection::half_close() {
  if (half_closed_ || closed_) return;
  half_closed_ = true;
  boost::system::error_code ignored;
  socket_.shutdown(tcp::socket::shutdown_send, ignored);
  if (!linger_) return finish();
  linger_until_ = steady_clock::now() + close_linger;
  schedule(linger_until_);
  do_wait_read();  // EOF from the peer ends the linger early
}

void tcp_connection::abort() { finish(); }

void tcp_connection::finish() {
  if (closed_) return;
  closed_ = true;
  leave_handshake();
  boost::system::error_code ignored;
  socket_.close(ignored);
  timer_.cancel();
  // Told on a fresh handler: finish() may run inside a call from the session.
  net::post(socket_.get_executor(), [self = shared_from_this()] { self->core_->on_transport_closed(); });
}

// ---- listener -------------------------------------------------------------------------------

tcp_listener::tcp_listener(net::io_context& ioc, tcp::endpoint ep, session_factory make_session,
                           std::shared_ptr<handshake_gate> gate, int send_buffer)
    : ioc_(ioc),
      acceptor_(net::make_strand(ioc)),
      backoff_(acceptor_.get_executor()),
      endpoint_(ep),
      make_session_(std::move(make_session)),
      gate_(std::move(gate)),
      send_buffer_(send_buffer) {}

void tcp_listener::start() {
  acceptor_.open(endpoint_.protocol());
  acceptor_.set_option(net::socket_base::reuse_address(true));
  acceptor_.bind(endpoint_);
  acceptor_.listen(net::socket_base::max_listen_connections);
  do_accept();
}

void tcp_listener::stop() {
  stopped_ = true;
  net::post(acceptor_.get_executor(), [self = shared_from_this()] {
    boost::system::error_code ignored;
    self->acceptor_.close(ignored);
    self->backoff_.cancel();
  });
}

tcp::endpoint tcp_listener::local_endpoint() const {
  boost::system::error_code ec;
  return acceptor_.local_endpoint(ec);
}

void tcp_listener::do_accept() {
  acceptor_.async_accept(
      net::make_strand(ioc_), [self = shared_from_this()](const boost::system::error_code& ec, tcp::socket socket) {
        if (self->stopped_ || ec == net::error::operation_aborted) return;
        if (ec) {
          // EMFILE and friends: log, pause briefly (no busy loop), keep accepting.
          log::warn("stomp accept failed", {{"error", ec.message()}});
          self->backoff_.expires_after(std::chrono::milliseconds(100));
          self->backoff_.async_wait([self](const boost::system::error_code&) {
            if (!self->stopped_) self->do_accept();
          });
          return;
        } else {
          if (self->send_buffer_ > 0) {
            boost::system::error_code ignored;
            socket.set_option(net::socket_base::send_buffer_size(self->send_buffer_), ignored);
          }
          auto core = self->make_session_(socket.get_executor());
          if (core) std::make_shared<tcp_connection>(std::move(socket), std::move(core), self->gate_)->start();
        }
        self->do_accept();
      });
}

}  // namespace chat::gateway
