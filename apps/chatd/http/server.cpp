#include "http/server.hpp"

#include <chat/log/log.hpp>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket/rfc6455.hpp>

#include <algorithm>
#include <array>
#include <charconv>
#include <deque>
#include <limits>
#include <list>
#include <mutex>
#include <optional>
#include <sstream>

namespace chat::http {

namespace net = boost::asio;
namespace beast = boost::beast;
using tcp = net::ip::tcp;

namespace {
class session;
}  // namespace

// The connections whose first request has not arrived yet, oldest first (see
// server_limits::max_pending_handshakes). The list holds the sessions strongly; each
// session leaves it when its first read completes (request, error or timeout) or when it
// is evicted, so nothing stays in it for longer than request_timeout.
struct handshake_queue {
  explicit handshake_queue(std::size_t limit) : limit(std::max<std::size_t>(1, limit)) {}

  // Adds `s`; returns the session to evict when the limit is passed (or null).
  std::shared_ptr<session> admit(const std::shared_ptr<session>& s);
  // Removes `s` if it is still waiting. Idempotent.
  void leave(session& s);

  const std::size_t limit;
  mutable std::mutex mutex;
  std::list<std::shared_ptr<session>> order;  // guarded by mutex
  std::atomic<std::uint64_t> evicted{0};
};

namespace {

using clock = std::chrono::steady_clock;

// The access log line and the observer (RED metrics) of one answered request.
void report(const exchange_observer& observer, const exchange& x) {
  if (log::enabled(log::level::debug)) {
    log::debug("http request", {{"method", bhttp::to_string(x.method)},
                                {"route", x.route},
                                {"status", x.status},
                                {"duration_ms", std::chrono::duration<double, std::milli>(x.duration).count()},
                                {"bytes", x.bytes}});
  }
  if (observer) observer(x);
}

// What a streaming response's writer asks of its connection (posted to its strand).
class stream_host {
 public:
  virtual ~stream_host() = default;
  virtual void stream_push(std::string data) = 0;
  virtual void stream_close() = 0;
  virtual void stream_overflow() = 0;
};

// The stream_writer of one streaming response: counts what waits for the socket (any thread)
// and hands the data to the connection's strand.
class stream_channel final : public stream_writer {
 public:
  stream_channel(std::weak_ptr<stream_host> host, net::any_io_executor strand, std::size_t max_bytes)
      : host_(std::move(host)), strand_(std::move(strand)), max_bytes_(max_bytes) {}

  bool write(std::string data) override {
    if (ended.load(std::memory_order_acquire)) return false;
    const std::size_t n = data.size();
    const std::size_t before = queued_.fetch_add(n, std::memory_order_acq_rel);
    if (before > 0 && before + n > max_bytes_) {
      queued_.fetch_sub(n, std::memory_order_acq_rel);
      post([](stream_host& h) { h.stream_overflow(); });
      return false;
    }
    post([data = std::move(data)](stream_host& h) mutable { h.stream_push(std::move(data)); });
    return true;
  }

  void close() override {
    post([](stream_host& h) { h.stream_close(); });
  }

  // The socket took `n` bytes of what write() queued (strand).
  void wrote(std::size_t n) { queued_.fetch_sub(n, std::memory_order_acq_rel); }

  std::atomic<bool> ended{false};

 private:
  template <class F>
  void post(F f) {
    net::post(strand_, [host = host_, f = std::move(f)]() mutable {
      if (auto h = host.lock()) f(*h);
    });
  }

  std::weak_ptr<stream_host> host_;
  net::any_io_executor strand_;
  const std::size_t max_bytes_;
  std::atomic<std::size_t> queued_{0};
};

// One keep-alive HTTP connection. Reads a request, dispatches it, writes the response,
// repeats. All state is touched only on the connection's strand.
class session : public stream_host, public std::enable_shared_from_this<session> {
 public:
  session(tcp::socket&& socket, const router& routes, const server_limits& limits, const upgrade_handler& on_upgrade,
          const exchange_observer& observer, std::weak_ptr<handshake_queue> pending)
      : stream_(std::move(socket)),
        routes_(routes),
        limits_(limits),
        on_upgrade_(on_upgrade),
        observer_(observer),
        pending_(std::move(pending)) {
    beast::error_code ec;  // a peer that already left: unspecified address, the read fails anyway
    peer_ = stream_.socket().remote_endpoint(ec).address();
  }

  void run() {
    net::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->do_read(); });
  }

  // Closes a connection that was still waiting for its first request. Any thread.
  void evict() {
    net::post(stream_.get_executor(), [self = shared_from_this()] { self->close(); });
  }

  // Guarded by handshake_queue::mutex.
  std::list<std::shared_ptr<session>>::iterator pending_it;
  bool in_pending = false;

 private:
  void do_read() {
    parser_.emplace();
    // Beast would refuse a Content-Length above the limit as soon as the headers are parsed,
    // before the route is known: the limit is set once they are (on_read_header).
    // Not boost::none: this Beast compares a Content-Length with an empty limit as "larger".
    parser_->body_limit(std::numeric_limits<std::uint64_t>::max());
    body_limit_ = limits_.max_body_bytes;
    parser_->header_limit(static_cast<std::uint32_t>(limits_.max_header_bytes));
    stream_.expires_after(first_ ? limits_.request_timeout : limits_.idle_timeout);
    // The headers first: they name the route, and a route may allow a larger body (uploads).
    bhttp::async_read_header(
        stream_, buffer_, *parser_,
        [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_read_header(ec); });
  }

  void on_read_header(beast::error_code ec) {
    if (ec) return on_read(ec);
    // The request is arriving: a long upload is no half-open connection to evict.
    if (first_) {
      if (auto pending = pending_.lock()) pending->leave(*this);
    }
    auto& req = parser_->get();
    if (!beast::websocket::is_upgrade(req)) {
      if (const auto limit = routes_.body_limit(req); limit > limits_.max_body_bytes) {
        body_limit_ = limit;
      }
    }
    if (parser_->content_length() && *parser_->content_length() > body_limit_) return on_read(bhttp::error::body_limit);
    parser_->body_limit(body_limit_);  // a chunked body is counted as it arrives
    // "Expect: 100-continue" (curl sends it for bodies over 1 MiB): the client waits for an
    // interim answer before it sends the body (one over the limit got 413 above instead).
    const bool wants_continue = bhttp::token_list(req[bhttp::field::expect]).exists("100-continue");
    if (wants_continue && !parser_->is_done()) {
      auto interim = std::make_shared<bhttp::response<bhttp::empty_body>>(status::continue_, req.version());
      bhttp::async_write(stream_, *interim, [self = shared_from_this(), interim](beast::error_code wec, std::size_t) {
        if (wec) return self->close();
        self->read_body();
      });
      return;
    }
    read_body();
  }

  void read_body() {
    bhttp::async_read(stream_, buffer_, *parser_,
                      [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_read(ec); });
  }

  void on_read(beast::error_code ec) {
    if (first_) {
      if (auto pending = pending_.lock()) pending->leave(*this);
    }
    first_ = false;
    if (ec == bhttp::error::end_of_stream || ec == beast::error::timeout || ec == net::error::operation_aborted ||
        ec == net::error::connection_reset || ec == net::error::eof) {
      return close();
    }
    // Refused before routing (400, 413, 431): counted as unmatched.
    started_ = clock::now();
    method_ = parser_->is_header_done() ? parser_->get().method() : verb::unknown;
    route_ = unmatched_route;
    if (ec == bhttp::error::body_limit) {
      return write_error_and_close(status::payload_too_large, "payload_too_large",
                                   "request body exceeds " + std::to_string(body_limit_) + " bytes");
    }
    if (ec == bhttp::error::header_limit) {
      return write_error_and_close(status::request_header_fields_too_large, "headers_too_large",
                                   "request headers too large");
    }
    if (ec) {
      return write_error_and_close(status::bad_request, "bad_request", "malformed HTTP request");
    }

    request req = parser_->release();
    if (beast::websocket::is_upgrade(req) && on_upgrade_) {
      stream_.expires_never();
      std::string_view path = req.target();
      if (const auto q = path.find('?'); q != std::string_view::npos) path = path.substr(0, q);
      upgrade_answered answered = [&observer = observer_, method = method_, started = started_,
                                   route = path == websocket_route ? websocket_route : unmatched_route](
                                      status st, std::size_t bytes) {
        report(observer, {method, route, static_cast<unsigned>(st), clock::now() - started, bytes});
      };
      on_upgrade_(std::move(stream_), std::move(req), std::move(answered));
      return;
    }

    const bool keep_alive = req.keep_alive();
    const unsigned version = req.version();
    const bool head = req.method() == verb::head;
    // The responder may run on a database thread: hop back onto the strand.
    auto self = shared_from_this();
    responder respond = [self, keep_alive, version, head](response&& res) mutable {
      net::post(self->stream_.get_executor(), [self, res = std::move(res), keep_alive, version, head]() mutable {
        res.version(version);
        res.keep_alive(keep_alive);
        if (head) res.body().clear();
        self->do_write(std::move(res), head);
      });
    };
    stream_opener open = [self, version](response head,
                                         std::function<void(stream_end)> ended) -> std::shared_ptr<stream_writer> {
      auto channel = std::make_shared<stream_channel>(std::weak_ptr<stream_host>(self), self->stream_.get_executor(),
                                                      self->limits_.max_stream_buffer);
      net::post(self->stream_.get_executor(),
                [self, head = std::move(head), channel, ended = std::move(ended), version]() mutable {
                  self->start_stream(std::move(head), channel, std::move(ended), version);
                });
      return channel;
    };
    // The responder posts, so the write (and its report) comes after route_ is set.
    route_ = routes_.dispatch(req, peer_, std::move(respond), std::move(open));
  }

  // ---- streaming responses (strand) ----

  void start_stream(response head, std::shared_ptr<stream_channel> channel, std::function<void(stream_end)> ended,
                    unsigned version) {
    channel_ = std::move(channel);
    stream_ended_ = std::move(ended);
    streaming_ = true;
    chunked_ = version >= 11;
    head.version(version);
    head.keep_alive(false);
    head.body().clear();
    if (chunked_) {
      head.chunked(true);
    } else {
      head.erase(bhttp::field::content_length);
    }
    std::ostringstream os;
    os << head.base();
    head_status_ = head.result_int();
    stream_.expires_never();
    queue_.push_back({os.str(), 0});
    watch_peer();
    write_stream();
  }

  void stream_push(std::string data) override {
    if (stream_done_ || stream_closing_) {
      channel_->wrote(data.size());
      return;
    }
    const std::size_t raw = data.size();
    if (chunked_) {
      if (raw == 0) return;  // an empty chunk would end the body
      char size[20];
      const auto end = std::to_chars(size, size + sizeof size, raw, 16).ptr;
      std::string wire;
      wire.reserve(raw + 24);
      wire.append(size, end);
      wire.append("\r\n");
      wire.append(data);
      wire.append("\r\n");
      data = std::move(wire);
    }
    queue_.push_back({std::move(data), raw});
    write_stream();
  }

  void stream_close() override {
    if (stream_done_ || stream_closing_) return;
    stream_closing_ = true;
    if (chunked_) queue_.push_back({"0\r\n\r\n", 0});
    write_stream();
  }

  void stream_overflow() override { finish_stream(stream_end::slow); }

  void write_stream() {
    if (stream_done_ || writing_) return;
    if (queue_.empty()) {
      if (stream_closing_) finish_stream(stream_end::closed);
      return;
    }
    writing_ = true;
    buffers_.clear();
    in_flight_raw_ = 0;
    in_flight_ = 0;
    for (const auto& piece : queue_) {
      if (in_flight_ == 64) break;
      buffers_.emplace_back(piece.wire.data(), piece.wire.size());
      in_flight_raw_ += piece.raw;
      ++in_flight_;
    }
    stream_.expires_after(limits_.stream_stall_timeout);
    net::async_write(stream_, buffers_, [self = shared_from_this()](beast::error_code ec, std::size_t n) {
      self->on_stream_written(ec, n);
    });
  }

  void on_stream_written(beast::error_code ec, std::size_t n) {
    writing_ = false;
    written_ += n;
    for (std::size_t i = 0; i < in_flight_ && !queue_.empty(); ++i) queue_.pop_front();
    channel_->wrote(in_flight_raw_);
    if (!head_reported_) {
      head_reported_ = true;
      report_written(head_status_, n);
    }
    if (ec) return finish_stream(ec == beast::error::timeout ? stream_end::slow : stream_end::error);
    write_stream();
  }

  // A streaming client sends nothing more: readable means it closed (or misbehaves).
  void watch_peer() {
    stream_.socket().async_read_some(net::buffer(scratch_),
                                     [self = shared_from_this()](beast::error_code ec, std::size_t) {
                                       if (self->stream_done_ || ec == net::error::operation_aborted) return;
                                       if (ec) return self->finish_stream(stream_end::peer);
                                       self->watch_peer();  // bytes after the request: ignored
                                     });
  }

  void finish_stream(stream_end why) {
    if (stream_done_) return;
    stream_done_ = true;
    channel_->ended.store(true, std::memory_order_release);
    if (!writing_) queue_.clear();  // else the write in flight still points into it
    auto ended = std::move(stream_ended_);
    stream_ended_ = nullptr;
    if (!head_reported_) {
      head_reported_ = true;
      report_written(head_status_, written_);
    }
    close();
    if (ended) ended(why);
  }

  void do_write(response&& res, bool head) {
    auto shared = std::make_shared<response>(std::move(res));
    if (!head) shared->prepare_payload();
    stream_.expires_after(limits_.request_timeout);
    bhttp::async_write(stream_, *shared, [self = shared_from_this(), shared](beast::error_code ec, std::size_t n) {
      self->report_written(shared->result_int(), n);
      if (ec) return self->close();
      if (!shared->keep_alive()) return self->close();
      self->do_read();
    });
  }

  void write_error_and_close(status st, std::string_view code, std::string message) {
    auto res = error_response(st, code, message);
    res.keep_alive(false);
    do_write(std::move(res), false);
  }

  void report_written(unsigned st, std::size_t bytes) {
    report(observer_, {method_, route_, st, clock::now() - started_, bytes});
  }

  void close() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    stream_.close();
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  std::size_t body_limit_ = 0;  // of the request being read: the server's, or its route's
  const router& routes_;
  const server_limits& limits_;
  const upgrade_handler& on_upgrade_;
  const exchange_observer& observer_;
  std::weak_ptr<handshake_queue> pending_;
  // The request being answered (one at a time per connection).
  clock::time_point started_{};
  verb method_ = verb::unknown;
  std::string_view route_ = unmatched_route;
  net::ip::address peer_;
  bool first_ = true;

  // A streaming response (start_stream), once it began: the connection serves nothing else.
  struct stream_piece {
    std::string wire;     // as written (a chunk, or the head)
    std::size_t raw = 0;  // of what stream_writer::write() counted
  };
  bool streaming_ = false;
  bool chunked_ = false;
  bool writing_ = false;
  bool stream_closing_ = false;
  bool stream_done_ = false;
  bool head_reported_ = false;
  unsigned head_status_ = 200;
  std::size_t written_ = 0;
  std::size_t in_flight_ = 0;
  std::size_t in_flight_raw_ = 0;
  std::shared_ptr<stream_channel> channel_;
  std::function<void(stream_end)> stream_ended_;
  std::deque<stream_piece> queue_;
  std::vector<net::const_buffer> buffers_;
  std::array<char, 256> scratch_{};
};

}  // namespace

std::shared_ptr<session> handshake_queue::admit(const std::shared_ptr<session>& s) {
  std::lock_guard lock(mutex);
  s->pending_it = order.insert(order.end(), s);
  s->in_pending = true;
  if (order.size() <= limit) return nullptr;
  auto oldest = std::move(order.front());
  order.pop_front();
  oldest->in_pending = false;
  evicted.fetch_add(1, std::memory_order_relaxed);
  return oldest;
}

void handshake_queue::leave(session& s) {
  std::shared_ptr<session> released;  // destroyed after the lock is released
  std::lock_guard lock(mutex);
  if (!s.in_pending) return;
  s.in_pending = false;
  released = std::move(*s.pending_it);
  order.erase(s.pending_it);
}

server::server(net::io_context& ioc, tcp::endpoint ep, const router& routes, server_limits limits,
               upgrade_handler on_upgrade)
    : ioc_(ioc),
      acceptor_(net::make_strand(ioc)),
      accept_backoff_(acceptor_.get_executor()),
      endpoint_(ep),
      routes_(routes),
      limits_(limits),
      on_upgrade_(std::move(on_upgrade)),
      pending_(std::make_shared<handshake_queue>(limits.max_pending_handshakes)) {}

void server::start() {
  acceptor_.open(endpoint_.protocol());
  acceptor_.set_option(net::socket_base::reuse_address(true));
  acceptor_.bind(endpoint_);
  acceptor_.listen(net::socket_base::max_listen_connections);
  do_accept();
}

void server::stop() {
  stopped_ = true;
  net::post(acceptor_.get_executor(), [self = shared_from_this()] {
    beast::error_code ignored;
    self->acceptor_.close(ignored);
  });
  // Connections that never sent a request have nothing to finish.
  std::list<std::shared_ptr<session>> waiting;
  {
    std::lock_guard lock(pending_->mutex);
    for (auto& s : pending_->order) s->in_pending = false;
    waiting.swap(pending_->order);
  }
  for (auto& s : waiting) s->evict();
}

std::uint64_t server::evicted_handshakes() const noexcept { return pending_->evicted.load(std::memory_order_relaxed); }

std::size_t server::pending_handshakes() const {
  std::lock_guard lock(pending_->mutex);
  return pending_->order.size();
}

tcp::endpoint server::local_endpoint() const {
  beast::error_code ec;
  return acceptor_.local_endpoint(ec);
}

void server::do_accept() {
  acceptor_.async_accept(net::make_strand(ioc_), beast::bind_front_handler(&server::on_accept, shared_from_this()));
}

void server::on_accept(beast::error_code ec, tcp::socket socket) {
  if (stopped_ || ec == net::error::operation_aborted) return;
  if (ec) {
    // EMFILE and friends: log and retry after a pause rather than spinning on the error.
    log::warn("accept failed", {{"error", ec.message()}});
    accept_backoff_.expires_after(std::chrono::milliseconds(100));
    accept_backoff_.async_wait([self = shared_from_this()](beast::error_code wait_ec) {
      if (!wait_ec && !self->stopped_) self->do_accept();
    });
    return;
  }
  auto s = std::make_shared<session>(std::move(socket), routes_, limits_, on_upgrade_, observer_, pending_);
  if (auto oldest = pending_->admit(s)) {
    oldest->evict();
    // One line per 1000 evictions: a flood must not flood the log too.
    if (const auto n = pending_->evicted.load(std::memory_order_relaxed); n % 1000 == 1) {
      log::warn("too many HTTP connections without a request; closing the oldest",
                {{"limit", static_cast<std::int64_t>(limits_.max_pending_handshakes)},
                 {"evicted_total", static_cast<std::int64_t>(n)}});
    }
  }
  s->run();
  do_accept();
}

}  // namespace chat::http
