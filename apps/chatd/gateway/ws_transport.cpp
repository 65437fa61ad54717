#include "gateway/ws_transport.hpp"

#include <chat/log/log.hpp>

#include <boost/asio/post.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>

namespace chat::gateway {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using tcp = net::ip::tcp;

namespace {

constexpr std::size_t read_limit = 4096;  // per read; the decoder bounds frames

std::string_view trim(std::string_view s) noexcept {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

class ws_connection final : public gated_transport, public std::enable_shared_from_this<ws_connection> {
 public:
  // `gate` (may be null: no cap) counts the connection from the end of the WebSocket
  // handshake until its session leaves awaiting-CONNECT.
  ws_connection(beast::tcp_stream&& stream, std::shared_ptr<session> core, ws_options options,
                std::shared_ptr<handshake_gate> gate)
      : gated_transport(std::move(gate)),
        ws_(std::move(stream)),
        core_(std::move(core)),
        options_(options),
        timer_(ws_.get_executor()) {}

  // `answered` learns the handshake's outcome (101, or 400 when it failed).
  void accept(http::request&& req, std::optional<std::string_view> subprotocol, http::upgrade_answered answered) {
    beast::get_lowest_layer(ws_).expires_never();
    websocket::stream_base::timeout timeouts{};
    timeouts.handshake_timeout = options_.handshake_timeout;
    timeouts.idle_timeout = websocket::stream_base::none();  // STOMP heart-beats watch liveness
    timeouts.keep_alive_pings = false;
    ws_.set_option(timeouts);
    const std::string proto(subprotocol.value_or(""));
    ws_.set_option(websocket::stream_base::decorator([proto](websocket::response_type& res) {
      res.set(beast::http::field::server, "chatd");
      if (!proto.empty()) res.set(beast::http::field::sec_websocket_protocol, proto);
    }));
    ws_.read_message_max(0);  // frames are bounded by the STOMP decoder, not per message
    ws_.auto_fragment(false);
    boost::system::error_code ignored;
    beast::get_lowest_layer(ws_).socket().set_option(tcp::no_delay(true), ignored);
    beast::get_lowest_layer(ws_).socket().set_option(net::socket_base::keep_alive(true), ignored);
    if (options_.send_buffer > 0) {
      beast::get_lowest_layer(ws_).socket().set_option(net::socket_base::send_buffer_size(options_.send_buffer),
                                                       ignored);
    }
    auto shared_req = std::make_shared<http::request>(std::move(req));
    ws_.async_accept(*shared_req, [self = shared_from_this(), shared_req,
                                   answered = std::move(answered)](const boost::system::error_code& ec) {
      if (answered) answered(ec ? http::status::bad_request : http::status::switching_protocols, 0);
      if (ec) {
        log::debug("websocket handshake failed", {{"error", ec.message()}});
        self->closed_ = true;
        return;
      }
      self->ws_.text(true);
      // Tracked here, on the strand that accepted the upgrade (the session's), right before
      // the session runs: it cannot report handshake_finished() before it is tracked, and an
      // eviction posted to this strand runs after it started.
      self->track_handshake(self);
      self->core_->start(*self);
      self->handshake_session_started();
      self->do_read();
    });
  }

  void output_ready() override {
    if (!writing_ && !closed_ && !close_sent_) do_write();
  }

  void schedule(time_point deadline) override {
    if (closed_) return;
    timer_.arm(deadline, [self = shared_from_this()] { self->on_timer(); });
  }

  void close_after_flush() override {
    if (closed_ || closing_) return;
    closing_ = true;
    if (!writing_) do_write();
  }

  void abort() override { finish(); }

  void resume_reading() override { do_read(); }

 private:
  bool evict_handshake() override {
    if (closed_) return false;
    return evict_without_linger(*core_, linger_);
  }

  net::any_io_executor handshake_strand() override { return ws_.get_executor(); }

  void do_read() {
    if (reading_ || closed_) return;
    if (!closing_ && !core_->wants_bytes()) return;
    reading_ = true;
    ws_.async_read_some(
        buffer_, read_limit,
        [self = shared_from_this()](const boost::system::error_code& ec, std::size_t n) { self->on_read(ec, n); });
  }

  void on_read(const boost::system::error_code& ec, std::size_t) {
    reading_ = false;
    if (closed_) return;
    if (ec) return finish();  // closed by the peer, protocol error, reset
    const auto data = buffer_.data();
    if (!closing_) {
      core_->on_bytes(std::string_view(static_cast<const char*>(data.data()), data.size()));
    }
    buffer_.consume(buffer_.size());
    if (closed_) return;
    do_read();
  }

  void do_write() {
    if (writing_) return;  // one write in flight: what is queued meanwhile goes with the next
    buffers_.clear();
    frames_ = core_->collect_output(buffers_, 1);  // one STOMP frame per WebSocket message
    if (frames_ == 0) {
      if (closing_) close_handshake();
      return;
    }
    writing_ = true;
    ws_.async_write(buffers_, [self = shared_from_this()](const boost::system::error_code& ec, std::size_t) {
      if (self->closed_ || ec) {
        self->writing_ = false;
        if (!self->closed_) self->finish();
        return;
      }
      // Still writing while the session hears of it: output it queues now must not start a
      // second write on the stream (Beast allows one); it goes with the next one, below.
      self->core_->on_output_written(self->frames_);
      self->writing_ = false;
      if (self->closed_) return;
      self->do_write();
    });
  }

  void on_timer() {
    if (closed_) return;
    if (close_sent_ && steady_clock::now() >= linger_until_) return finish();
    core_->on_timer();
    if (close_sent_ && !closed_) schedule(linger_until_);
  }

  void close_handshake() {
    if (close_sent_ || closed_) return;
    close_sent_ = true;
    // The peer gets as long to answer our close frame as a TCP peer gets to read its last
    // frame (an evicted one: no time; the close frame is written as async_close() starts).
    // Our own timer enforces it (closing the socket): a Beast timeout would complete the
    // pending read with `timeout`, which Beast 1.74 asserts cannot happen.
    websocket::stream_base::timeout timeouts{};
    timeouts.handshake_timeout = websocket::stream_base::none();
    timeouts.idle_timeout = websocket::stream_base::none();
    timeouts.keep_alive_pings = false;
    ws_.set_option(timeouts);
    linger_until_ = steady_clock::now() + (linger_ ? close_linger : std::chrono::milliseconds(0));
    ws_.async_close(websocket::close_code::normal,
                    [self = shared_from_this()](const boost::system::error_code&) { self->finish(); });
    schedule(linger_until_);
  }

  void finish() {
    if (closed_) return;
    closed_ = true;
    leave_handshake();
    boost::system::error_code ignored;
    beast::get_lowest_layer(ws_).socket().close(ignored);
    timer_.cancel();
    net::post(ws_.get_executor(), [self = shared_from_this()] { self->core_->on_transport_closed(); });
  }

  websocket::stream<beast::tcp_stream> ws_;
  std::shared_ptr<session> core_;
  ws_options options_;
  session_timer timer_;
  beast::flat_buffer buffer_;
  std::vector<net::const_buffer> buffers_;
  std::size_t frames_ = 0;
  bool reading_ = false;
  bool writing_ = false;
  bool closing_ = false;
  bool close_sent_ = false;
  bool closed_ = false;
  bool linger_ = true;  // false once evicted: a flood connection gets no 2 s of our time
  time_point linger_until_{};
};

// Answers an upgrade request that will not be served with a JSON error, then closes.
void answer_and_close(beast::tcp_stream&& stream, const http::request& req, http::upgrade_answered answered,
                      http::status status, std::string_view code, std::string_view message) {
  auto s = std::make_shared<beast::tcp_stream>(std::move(stream));
  auto res = std::make_shared<http::response>(http::error_response(status, code, message));
  res->version(req.version());
  res->keep_alive(false);
  res->prepare_payload();
  s->expires_after(std::chrono::seconds(10));
  beast::http::async_write(
      *s, *res, [s, res, answered = std::move(answered), status](const boost::system::error_code&, std::size_t n) {
        if (answered) answered(status, n);
        boost::system::error_code ignored;
        s->socket().shutdown(tcp::socket::shutdown_both, ignored);
        s->close();
      });
}

// A non-/ws upgrade request: 404.
void reject(beast::tcp_stream&& stream, const http::request& req, http::upgrade_answered answered) {
  answer_and_close(std::move(stream), req, std::move(answered), http::status::not_found, "not_found",
                   "no WebSocket endpoint at this path");
}

void unavailable(beast::tcp_stream&& stream, const http::request& req, http::upgrade_answered answered) {
  answer_and_close(std::move(stream), req, std::move(answered), http::status::service_unavailable, "shutting_down",
                   "server shutting down");
}

}  // namespace

std::optional<std::string_view> choose_stomp_subprotocol(std::string_view offered) noexcept {
  int best = -1;
  static constexpr std::string_view names[] = {"v10.stomp", "v11.stomp", "v12.stomp"};
  while (!offered.empty()) {
    const auto comma = offered.find(',');
    const auto token = trim(offered.substr(0, comma));
    for (int i = 0; i < 3; ++i) {
      if (token == names[i]) best = std::max(best, i);
    }
    if (comma == std::string_view::npos) break;
    offered.remove_prefix(comma + 1);
  }
  if (best < 0) return std::nullopt;
  return names[best];
}

http::upgrade_handler make_ws_upgrade_handler(session_factory make_session, ws_options options,
                                              std::shared_ptr<std::atomic<bool>> accepting,
                                              std::shared_ptr<handshake_gate> gate) {
  return [make_session = std::move(make_session), options, accepting, gate = std::move(gate)](
             beast::tcp_stream&& stream, http::request&& req, http::upgrade_answered answered) {
    std::string_view target = req.target();
    if (const auto q = target.find('?'); q != std::string_view::npos) target = target.substr(0, q);
    if (target != "/ws") return reject(std::move(stream), req, std::move(answered));
    if (!accepting->load()) return unavailable(std::move(stream), req, std::move(answered));
    const auto subprotocol = choose_stomp_subprotocol(req[beast::http::field::sec_websocket_protocol]);
    auto core = make_session(stream.get_executor());
    if (!core) return unavailable(std::move(stream), req, std::move(answered));
    std::make_shared<ws_connection>(std::move(stream), std::move(core), options, gate)
        ->accept(std::move(req), subprotocol, std::move(answered));
  };
}

}  // namespace chat::gateway
