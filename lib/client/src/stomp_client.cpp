#include <chat/client/errc.hpp>
#include <chat/client/stomp_client.hpp>
#include <chat/stomp/encoder.hpp>

#include "transports.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

#include <algorithm>
#include <charconv>
#include <memory>
#include <stdexcept>
#include <utility>

namespace chat::client {

std::string_view to_string(stomp_client::state s) noexcept {
  switch (s) {
    case stomp_client::state::idle: return "idle";
    case stomp_client::state::connecting: return "connecting";
    case stomp_client::state::connected: return "connected";
    case stomp_client::state::disconnecting: return "disconnecting";
    case stomp_client::state::closed: return "closed";
  }
  return "unknown";
}

namespace detail {
namespace {

using clock_type = std::chrono::steady_clock;
using strand_type = net::strand<net::any_io_executor>;

void append_decimal(std::string& out, std::uint64_t value) {
  char digits[24];
  const auto [end, ec] = std::to_chars(digits, digits + sizeof digits, value);
  (void)ec;
  out.append(digits, end);
}

// Errors of the connect phase that mean "nobody answers" become errc::unreachable; end of
// stream and resets afterwards become errc::connection_lost.
std::error_code connect_error(const boost::system::error_code& ec) {
  const std::error_code converted = ec;
  if (is_unreachable(converted)) return errc::unreachable;
  if (ec == net::error::eof || ec == net::error::connection_reset) return errc::connection_lost;
  if (ec.category() == websocket::make_error_code(websocket::error::closed).category()) return errc::handshake_failed;
  if (ec.category() == beast::http::make_error_code(beast::http::error::end_of_stream).category()) {
    return errc::handshake_failed;
  }
  return converted;
}

std::error_code stream_error(const boost::system::error_code& ec) {
  if (ec == net::error::eof || ec == net::error::connection_reset || ec == net::error::broken_pipe ||
      ec == net::error::connection_aborted || ec == websocket::error::closed) {
    return errc::connection_lost;
  }
  return std::error_code(ec);
}

template <class Transport>
class session final : public stomp_client, public std::enable_shared_from_this<session<Transport>> {
 public:
  session(const net::any_io_executor& ex, stomp_options options, stomp_handlers handlers)
      : strand_(net::make_strand(ex)),
        options_(std::move(options)),
        handlers_(std::move(handlers)),
        resolver_(strand_),
        transport_(strand_),
        timer_(strand_),
        decoder_(options_.limits),
        read_buffer_(std::make_unique<char[]>(std::max<std::size_t>(options_.read_buffer_bytes, 256))) {}

  net::any_io_executor executor() const override { return strand_; }

  void connect() override {
    if (state_ != state::idle) return;
    state_ = state::connecting;
    connect_deadline_ = clock_type::now() + options_.connect_timeout;
    rearm();
    boost::system::error_code ec;
    const auto address = net::ip::make_address(options_.server.host, ec);
    if (!ec) {
      const tcp::endpoint endpoint(address, options_.server.port);
      transport_.socket().async_connect(
          endpoint, [self = this->shared_from_this()](const boost::system::error_code& e) { self->on_connect(e); });
      return;
    }
    resolver_.async_resolve(options_.server.host, std::to_string(options_.server.port),
                            [self = this->shared_from_this()](const boost::system::error_code& e,
                                                              const tcp::resolver::results_type& results) {
                              self->on_resolve(e, results);
                            });
  }

  std::error_code subscribe(std::string_view destination, std::string_view id, std::span<const header_view> headers,
                            std::string_view receipt) override {
    if (!sendable()) return errc::not_connected;
    auto f = begin_frame(stomp::command::subscribe);
    f.writer.header("destination", destination).header("id", id);
    if (std::none_of(headers.begin(), headers.end(), [](const header_view& h) { return h.name == "ack"; })) {
      f.writer.header("ack", "auto");
    }
    for (const auto& h : headers) f.writer.header(h.name, h.value);
    if (!receipt.empty()) f.writer.header("receipt", receipt);
    return end_frame(f, {});
  }

  std::error_code unsubscribe(std::string_view id, std::string_view receipt) override {
    if (!sendable()) return errc::not_connected;
    auto f = begin_frame(stomp::command::unsubscribe);
    f.writer.header("id", id);
    if (!receipt.empty()) f.writer.header("receipt", receipt);
    return end_frame(f, {});
  }

  std::error_code send(std::string_view destination, std::string_view body, std::span<const header_view> headers,
                       std::string_view receipt) override {
    if (!sendable()) return errc::not_connected;
    auto f = begin_frame(stomp::command::send);
    f.writer.header("destination", destination);
    bool have_length = false;
    for (const auto& h : headers) {
      have_length = have_length || h.name == "content-length";
      f.writer.header(h.name, h.value);
    }
    if (!receipt.empty()) f.writer.header("receipt", receipt);
    if (!have_length) f.writer.content_length(body.size());
    return end_frame(f, body);
  }

  std::error_code send_frame(stomp::command cmd, std::span<const header_view> headers, std::string_view body) override {
    if (!sendable()) return errc::not_connected;
    if (cmd == stomp::command::connect || cmd == stomp::command::stomp || cmd == stomp::command::disconnect) {
      return errc::protocol_error;  // the session sends those itself
    }
    auto f = begin_frame(cmd);
    for (const auto& h : headers) f.writer.header(h.name, h.value);
    if (!body.empty()) f.writer.content_length(body.size());
    return end_frame(f, body);
  }

  std::error_code disconnect(std::string_view receipt) override {
    if (state_ != state::connected) return errc::not_connected;
    auto f = begin_frame(stomp::command::disconnect);
    if (!receipt.empty()) f.writer.header("receipt", receipt);
    if (const auto ec = end_frame(f, {})) return ec;
    state_ = state::disconnecting;
    disconnect_receipt_.assign(receipt);
    close_after_flush_ = receipt.empty();
    disconnect_deadline_ = clock_type::now() + options_.disconnect_timeout;
    rearm();
    if (close_after_flush_ && !writing_) graceful_close();
    return {};
  }

  void close() override { finish(errc::aborted); }

  state current_state() const noexcept override { return state_; }
  stomp::version version() const noexcept override { return version_; }
  stomp::heart_beat_plan heart_beats() const noexcept override { return {send_every_ms_, expect_every_ms_}; }
  std::size_t outbound_bytes() const noexcept override { return pending_.size() + (writing_ ? written_.size() : 0); }

 private:
  // ---- connect phase ----

  void on_resolve(const boost::system::error_code& ec, const tcp::resolver::results_type& results) {
    if (state_ != state::connecting) return;
    if (ec) return finish(errc::unreachable);
    net::async_connect(transport_.socket(), results,
                       [self = this->shared_from_this()](const boost::system::error_code& e, const tcp::endpoint&) {
                         self->on_connect(e);
                       });
  }

  void on_connect(const boost::system::error_code& ec) {
    if (state_ != state::connecting) return;
    if (ec) return finish(connect_error(ec));
    boost::system::error_code ignored;
    transport_.socket().set_option(tcp::no_delay(true), ignored);
    transport_.async_handshake(
        options_.server, options_,
        [self = this->shared_from_this()](const boost::system::error_code& e) { self->on_handshake(e); });
  }

  void on_handshake(const boost::system::error_code& ec) {
    if (state_ != state::connecting) return;
    if (ec) return finish(connect_error(ec));
    // The writer leaves CONNECT headers unescaped (STOMP 1.2 §Value Encoding).
    auto f = begin_frame(stomp::command::connect);
    f.writer.header("accept-version", options_.accept_version)
        .header("host", options_.virtual_host.empty() ? std::string_view(options_.server.host)
                                                      : std::string_view(options_.virtual_host));
    std::string beat;
    append_decimal(beat, options_.heart_beat.cx);
    beat.push_back(',');
    append_decimal(beat, options_.heart_beat.cy);
    f.writer.header("heart-beat", beat);
    if (!options_.token.empty()) f.writer.header("Authorization", "Bearer " + options_.token);
    if (!options_.login.empty()) f.writer.header("login", options_.login);
    if (!options_.passcode.empty()) f.writer.header("passcode", options_.passcode);
    for (const auto& h : options_.connect_headers) f.writer.header(h.name, h.value);
    if (const auto e = end_frame(f, {}, true)) return finish(e);
    do_read();
  }

  // ---- reading ----

  void do_read() {
    transport_.async_read_some(
        net::mutable_buffer(read_buffer_.get(), std::max<std::size_t>(options_.read_buffer_bytes, 256)),
        [self = this->shared_from_this()](const boost::system::error_code& ec, std::size_t n) {
          self->on_read(ec, n);
        });
  }

  void on_read(const boost::system::error_code& ec, std::size_t n) {
    if (state_ == state::closed) return;
    if (ec) {
      if (state_ == state::disconnecting && receipt_seen_) return finish({});
      return finish(state_ == state::connecting ? connect_error(ec) : stream_error(ec));
    }
    last_read_ = clock_type::now();
    const auto error = decoder_.feed(
        std::string_view(read_buffer_.get(), n), [this](stomp::frame&& f) { on_frame(f); }, [] {});
    if (state_ == state::closed) return;
    if (error) return finish(error);
    do_read();
  }

  void on_frame(stomp::frame& f) {
    if (state_ == state::closed) return;
    switch (f.cmd) {
      case stomp::command::connected: return on_connected(f);
      case stomp::command::message:
        if (state_ == state::connecting) return finish(errc::protocol_error);
        if (handlers_.on_message) handlers_.on_message(f);
        return;
      case stomp::command::receipt: return on_receipt(f);
      case stomp::command::error:
        if (handlers_.on_error) handlers_.on_error(f);
        // One frame refused (docs/stomp.md, "Receipts"): the server keeps the session.
        if (f.get("session-closes") == std::optional<std::string_view>("false")) return;
        return finish(errc::server_error);
      case stomp::command::connect:
      case stomp::command::stomp:
      case stomp::command::send:
      case stomp::command::subscribe:
      case stomp::command::unsubscribe:
      case stomp::command::ack:
      case stomp::command::nack:
      case stomp::command::begin:
      case stomp::command::commit:
      case stomp::command::abort:
      case stomp::command::disconnect: return finish(errc::protocol_error);
    }
  }

  void on_connected(const stomp::frame& f) {
    if (state_ != state::connecting) return finish(errc::protocol_error);
    const auto v = f.get("version");
    if (!v || *v == "1.0") {
      version_ = stomp::version::v1_0;
    } else if (*v == "1.1") {
      version_ = stomp::version::v1_1;
    } else {
      version_ = stomp::version::v1_2;
    }
    escape_ = version_ != stomp::version::v1_0;
    decoder_.set_escaping(escape_);
    stomp::heart_beat server{0, 0};
    if (version_ != stomp::version::v1_0) {
      if (const auto hb = f.get("heart-beat")) {
        if (const auto parsed = stomp::parse_heart_beat(*hb)) server = *parsed;
      }
    }
    // negotiate_heart_beat() takes the server's view: its "send" is server → client.
    const auto plan = stomp::negotiate_heart_beat(options_.heart_beat, server);
    send_every_ms_ = plan.expect_every_ms;
    expect_every_ms_ = plan.send_every_ms;
    state_ = state::connected;
    last_read_ = clock_type::now();
    rearm();
    if (handlers_.on_connected) handlers_.on_connected(f);
  }

  void on_receipt(const stomp::frame& f) {
    if (state_ == state::connecting) return finish(errc::protocol_error);
    const std::string_view id = f.get("receipt-id").value_or(std::string_view{});
    if (handlers_.on_receipt) handlers_.on_receipt(id, f);
    if (state_ == state::disconnecting && !disconnect_receipt_.empty() && id == disconnect_receipt_) {
      receipt_seen_ = true;
      graceful_close();
    }
  }

  // ---- writing ----

  bool sendable() const noexcept { return state_ == state::connected; }

  // Frames are encoded straight into pending_; a frame that does not fit the bound is cut off
  // again (back to `mark`), so a refused send leaves no trace.
  struct pending_frame {
    std::size_t mark;
    stomp::frame_writer writer;
  };

  pending_frame begin_frame(stomp::command cmd) {
    const std::size_t mark = pending_.size();
    return {mark, stomp::frame_writer(pending_, cmd, {.escape = escape_})};
  }

  std::error_code end_frame(pending_frame& f, std::string_view body, bool unbounded = false) {
    f.writer.finish(body);
    if (!unbounded && outbound_bytes() > options_.max_outbound_bytes) {
      pending_.resize(f.mark);
      return errc::queue_full;
    }
    if constexpr (Transport::message_per_frame) pending_ends_.push_back(pending_.size());
    start_write();
    return {};
  }

  void enqueue_heartbeat() {
    stomp::encode_heartbeat(pending_);
    if constexpr (Transport::message_per_frame) pending_ends_.push_back(pending_.size());
    start_write();
  }

  void start_write() {
    if (writing_ || pending_.empty() || state_ == state::closed) return;
    written_.swap(pending_);
    pending_.clear();
    written_ends_.swap(pending_ends_);
    pending_ends_.clear();
    write_index_ = 0;
    writing_ = true;
    last_write_ = clock_type::now();
    write_next();
  }

  void write_next() {
    net::const_buffer chunk;
    if constexpr (Transport::message_per_frame) {
      const std::size_t begin = write_index_ == 0 ? 0 : written_ends_[write_index_ - 1];
      chunk = net::const_buffer(written_.data() + begin, written_ends_[write_index_] - begin);
    } else {
      chunk = net::const_buffer(written_.data(), written_.size());
    }
    transport_.async_write(chunk, [self = this->shared_from_this()](const boost::system::error_code& ec, std::size_t) {
      self->on_write(ec);
    });
  }

  void on_write(const boost::system::error_code& ec) {
    if (state_ == state::closed) return;
    if (ec) return finish(stream_error(ec));
    if constexpr (Transport::message_per_frame) {
      if (++write_index_ < written_ends_.size()) return write_next();
    }
    writing_ = false;
    written_.clear();
    written_ends_.clear();
    if (!pending_.empty()) return start_write();
    if (close_after_flush_ && state_ == state::disconnecting) graceful_close();
  }

  // ---- ending ----

  void graceful_close() {
    if (closing_ || state_ == state::closed) return;
    closing_ = true;
    transport_.async_close([self = this->shared_from_this()](const boost::system::error_code&) { self->finish({}); });
  }

  void finish(std::error_code reason) {
    if (state_ == state::closed) return;
    state_ = state::closed;
    boost::system::error_code ignored;
    timer_.cancel(ignored);
    resolver_.cancel();
    transport_.close();
    // Handlers are dropped once called so that lambdas holding this session do not keep it.
    auto handlers = std::move(handlers_);
    handlers_ = {};
    if (handlers.on_closed) handlers.on_closed(reason);
  }

  // ---- the one timer: connect deadline, disconnect deadline, heart-beats ----

  void rearm() {
    if (state_ == state::closed) return;
    const auto now = clock_type::now();
    auto next = clock_type::time_point::max();
    switch (state_) {
      case state::idle:
      case state::closed: return;
      case state::connecting: next = connect_deadline_; break;
      case state::disconnecting: next = disconnect_deadline_; [[fallthrough]];
      case state::connected:
        if (send_every_ms_ != 0) {
          // While a write is in flight nothing can be added to the wire: look again later.
          const auto every = std::chrono::milliseconds(send_every_ms_);
          next = std::min(next, writing_ ? now + every : std::max(now, last_write_ + every));
        }
        if (expect_every_ms_ != 0) {
          next = std::min(next, last_read_ + 2 * std::chrono::milliseconds(expect_every_ms_));
        }
        break;
    }
    if (next == clock_type::time_point::max()) return;
    timer_.expires_at(next);
    timer_.async_wait([self = this->shared_from_this()](const boost::system::error_code& ec) {
      if (!ec) self->on_timer();
    });
  }

  void on_timer() {
    const auto now = clock_type::now();
    switch (state_) {
      case state::idle:
      case state::closed: return;
      case state::connecting:
        if (now >= connect_deadline_) return finish(errc::timeout);
        break;
      case state::disconnecting:
        if (now >= disconnect_deadline_) return finish(receipt_seen_ ? std::error_code{} : errc::timeout);
        [[fallthrough]];
      case state::connected:
        if (expect_every_ms_ != 0 && now - last_read_ > 2 * std::chrono::milliseconds(expect_every_ms_)) {
          return finish(errc::heartbeat_timeout);
        }
        if (send_every_ms_ != 0 && !writing_ && now - last_write_ >= std::chrono::milliseconds(send_every_ms_)) {
          enqueue_heartbeat();
        }
        break;
    }
    rearm();
  }

  strand_type strand_;
  stomp_options options_;
  stomp_handlers handlers_;
  tcp::resolver resolver_;
  Transport transport_;
  net::steady_timer timer_;
  stomp::decoder decoder_;
  std::unique_ptr<char[]> read_buffer_;

  state state_ = state::idle;
  stomp::version version_ = stomp::version::v1_2;
  bool escape_ = true;
  std::uint32_t send_every_ms_ = 0;
  std::uint32_t expect_every_ms_ = 0;
  clock_type::time_point connect_deadline_{};
  clock_type::time_point disconnect_deadline_{};
  clock_type::time_point last_read_{};
  clock_type::time_point last_write_{};

  // Outbound: frames are appended to pending_ while written_ is on the wire; the two swap.
  std::string pending_;
  std::string written_;
  std::vector<std::size_t> pending_ends_;  // frame ends in pending_ (WebSocket only)
  std::vector<std::size_t> written_ends_;
  std::size_t write_index_ = 0;
  bool writing_ = false;

  std::string disconnect_receipt_;
  bool receipt_seen_ = false;
  bool close_after_flush_ = false;
  bool closing_ = false;
};

}  // namespace
}  // namespace detail

std::shared_ptr<stomp_client> stomp_client::create(const boost::asio::any_io_executor& executor, stomp_options options,
                                                   stomp_handlers handlers) {
  switch (options.server.kind) {
    case scheme::ws:
      return std::make_shared<detail::session<detail::ws_transport>>(executor, std::move(options), std::move(handlers));
    case scheme::tcp:
      return std::make_shared<detail::session<detail::tcp_transport>>(executor, std::move(options),
                                                                      std::move(handlers));
    case scheme::http: break;
  }
  throw std::invalid_argument("a STOMP server URL must be ws://, tcp:// or stomp://");
}

}  // namespace chat::client
