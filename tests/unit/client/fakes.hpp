#pragma once
// In-process fake servers for the client tests, bound to 127.0.0.1:0.
//
// fake_stomp_server: each accepted connection (plain TCP or WebSocket) runs a test-supplied
// coroutine script that reads and writes STOMP frames with a `peer`. The script runs on the
// io_context the server was built with: the same one as the client under test (then the test
// drives it with run_until), or one on a server_thread (for blocking clients).
//
// fake_http_server: answers HTTP/1.1 requests with a test-supplied handler on its own thread.
#include <utility>  // before Asio: boost/asio/awaitable.hpp of 1.74 uses std::exchange

#include <chat/client/url.hpp>
#include <chat_test/eventually.hpp>
#include <chat/stomp/decoder.hpp>
#include <chat/stomp/encoder.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>

#include <array>
#include <atomic>
#include <chrono>
#include <deque>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace chat::client::test {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
namespace bhttp = beast::http;
using tcp = net::ip::tcp;
using namespace std::chrono_literals;

// Runs `ioc` until pred() holds or `limit` passes; true when pred() held.
template <class Pred>
bool run_until(net::io_context& ioc, Pred pred, std::chrono::milliseconds limit = 30000ms) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!pred()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    if (ioc.stopped()) ioc.restart();
    ioc.run_one_for(20ms);
  }
  return true;
}

using ::chat::test::eventually;

// A header's value, or "<absent>" (for readable assertion messages).
inline std::string header_of(const stomp::frame& f, std::string_view name) {
  return std::string(f.get(name).value_or("<absent>"));
}

// frame_of(cmd, body, "name", "value", ...): builds a frame without braced initializer lists,
// which g++ 12 miscompiles inside coroutines ("array used as initializer").
inline void add_headers(stomp::frame&) {}
template <class... Rest>
void add_headers(stomp::frame& f, std::string_view name, std::string_view value, Rest&&... rest) {
  f.headers.push_back(stomp::header{std::string(name), std::string(value)});
  add_headers(f, std::forward<Rest>(rest)...);
}
template <class... Headers>
stomp::frame frame_of(stomp::command cmd, std::string_view body, Headers&&... headers) {
  stomp::frame f;
  f.cmd = cmd;
  f.body.assign(body);
  add_headers(f, std::forward<Headers>(headers)...);
  return f;
}

// One accepted STOMP connection, seen from the server side.
class peer {
 public:
  explicit peer(tcp::socket socket) : tcp_(std::move(socket)) {}
  explicit peer(websocket::stream<tcp::socket> ws) : ws_(std::move(ws)) {}

  bool websocket() const noexcept { return ws_.has_value(); }
  // false: decode later frames as STOMP 1.0 (header values literal, escapes left as they are).
  void set_escaping(bool on) { decoder_.set_escaping(on); }

  // The next frame the client sent; throws std::runtime_error at end of stream or on a decoding error.
  net::awaitable<stomp::frame> read_frame() {
    while (frames_.empty()) co_await read_more();
    auto f = std::move(frames_.front());
    frames_.pop_front();
    co_return f;
  }

  // Reads until the client closes the connection; false if it sent a frame first.
  net::awaitable<bool> read_until_closed() {
    try {
      for (;;) {
        co_await read_more();
        if (!frames_.empty()) co_return false;
      }
    } catch (const std::runtime_error&) {
    }
    co_return true;
  }

  net::awaitable<void> write(std::string bytes) {
    if (ws_) {
      co_await ws_->async_write(net::buffer(bytes), net::use_awaitable);
    } else {
      co_await net::async_write(*tcp_, net::buffer(bytes), net::use_awaitable);
    }
  }

  net::awaitable<void> write_frame(const stomp::frame& f, bool escape = true) {
    co_await write(stomp::encode(f, {.escape = escape}));
  }

  // Writes one octet per write operation (per WebSocket message on ws).
  net::awaitable<void> write_bytewise(std::string bytes) {
    for (const char c : bytes) co_await write(std::string(1, c));
  }

  net::awaitable<void> connected(std::string heart_beat = "0,0", std::string version = "1.2") {
    stomp::frame f =
        version.empty()
            ? frame_of(stomp::command::connected, "", "heart-beat", heart_beat, "server", "fake/1")
            : frame_of(stomp::command::connected, "", "version", version, "heart-beat", heart_beat, "server", "fake/1");
    co_await write_frame(f, false);
  }

  net::awaitable<void> receipt(std::string_view id) {
    const auto f = frame_of(stomp::command::receipt, "", "receipt-id", id);
    co_await write_frame(f);
  }

  net::awaitable<void> pause(std::chrono::milliseconds d) {
    net::steady_timer t(co_await net::this_coro::executor);
    t.expires_after(d);
    co_await t.async_wait(net::use_awaitable);
  }

  void close() {
    boost::system::error_code ignored;
    if (ws_) {
      ws_->next_layer().shutdown(tcp::socket::shutdown_both, ignored);
      ws_->next_layer().close(ignored);
    } else {
      tcp_->shutdown(tcp::socket::shutdown_both, ignored);
      tcp_->close(ignored);
    }
  }

  std::atomic<int> heartbeats{0};
  std::string subprotocol_offered;  // the client's Sec-WebSocket-Protocol

 private:
  net::awaitable<void> read_more() {
    std::size_t n = 0;
    try {
      if (ws_) {
        beast::flat_buffer buffer;
        n = co_await ws_->async_read(buffer, net::use_awaitable);
        feed(beast::buffers_to_string(buffer.data()));
      } else {
        n = co_await tcp_->async_read_some(net::buffer(chunk_), net::use_awaitable);
        feed(std::string_view(chunk_.data(), n));
      }
    } catch (const boost::system::system_error& e) {
      throw std::runtime_error(std::string("peer read: ") + e.what());
    }
  }

  void feed(std::string_view bytes) {
    const auto ec = decoder_.feed(
        bytes, [this](stomp::frame&& f) { frames_.push_back(std::move(f)); }, [this] { ++heartbeats; });
    if (ec) throw std::runtime_error("peer decode: " + ec.message());
  }

  std::optional<tcp::socket> tcp_;
  std::optional<websocket::stream<tcp::socket>> ws_;
  stomp::decoder decoder_;
  std::array<char, 4096> chunk_{};
  std::deque<stomp::frame> frames_;
};

class fake_stomp_server {
 public:
  using script = std::function<net::awaitable<void>(peer&)>;

  fake_stomp_server(net::io_context& ioc, bool websocket)
      : ioc_(ioc), websocket_(websocket), acceptor_(ioc, tcp::endpoint(net::ip::make_address("127.0.0.1"), 0)) {}

  std::uint16_t port() const { return acceptor_.local_endpoint().port(); }

  url address() const {
    url u;
    u.kind = websocket_ ? scheme::ws : scheme::tcp;
    u.host = "127.0.0.1";
    u.port = port();
    u.path = websocket_ ? "/ws" : "";
    return u;
  }

  // Accepts one connection and runs `s` on it. done()/error() tell how the script ended.
  void serve(script s) {
    net::co_spawn(ioc_, run(std::move(s)), [this](std::exception_ptr e) {
      if (e) {
        try {
          std::rethrow_exception(e);
        } catch (const std::exception& ex) {
          std::lock_guard lock(mutex_);
          error_ = ex.what();
        }
      }
      done_ = true;
    });
  }

  bool done() const { return done_; }
  std::string error() const {
    std::lock_guard lock(mutex_);
    return error_;
  }
  // The peer of the current/last connection (valid once accepted).
  peer* current() { return peer_.get(); }

 private:
  net::awaitable<void> run(script s) {
    auto socket = co_await acceptor_.async_accept(net::use_awaitable);
    if (websocket_) {
      websocket::stream<tcp::socket> ws(std::move(socket));
      beast::flat_buffer buffer;
      bhttp::request<bhttp::string_body> req;
      co_await bhttp::async_read(ws.next_layer(), buffer, req, net::use_awaitable);
      std::string offered(req[bhttp::field::sec_websocket_protocol]);
      ws.set_option(websocket::stream_base::decorator(
          [](websocket::response_type& res) { res.set(bhttp::field::sec_websocket_protocol, "v12.stomp"); }));
      co_await ws.async_accept(req, net::use_awaitable);
      peer_ = std::make_unique<peer>(std::move(ws));
      peer_->subprotocol_offered = offered;
    } else {
      peer_ = std::make_unique<peer>(std::move(socket));
    }
    co_await s(*peer_);
  }

  net::io_context& ioc_;
  bool websocket_;
  tcp::acceptor acceptor_;
  std::unique_ptr<peer> peer_;
  std::atomic<bool> done_{false};
  mutable std::mutex mutex_;
  std::string error_;
};

// An io_context running on its own thread for servers that serve blocking clients.
class server_thread {
 public:
  server_thread() : guard_(net::make_work_guard(ioc_)), thread_([this] { ioc_.run(); }) {}
  ~server_thread() { stop(); }
  void stop() {
    if (!thread_.joinable()) return;
    guard_.reset();
    ioc_.stop();
    thread_.join();
  }
  net::io_context& context() { return ioc_; }

 private:
  net::io_context ioc_;
  net::executor_work_guard<net::io_context::executor_type> guard_;
  std::thread thread_;
};

// ---- HTTP ----

struct http_exchange {
  bhttp::request<bhttp::string_body> request;
};

class fake_http_server {
 public:
  enum class mode {
    keep_alive,    // answers and keeps the connection open
    close_after,   // answers with Connection: close and closes
    silent_close,  // answers (keep-alive headers) and then closes without saying so
    never_answer,  // reads the request and sends nothing
  };
  using handler = std::function<bhttp::response<bhttp::string_body>(const bhttp::request<bhttp::string_body>&)>;

  explicit fake_http_server(handler h, mode m = mode::keep_alive)
      : handler_(std::move(h)),
        mode_(m),
        acceptor_(thread_.context(), tcp::endpoint(net::ip::make_address("127.0.0.1"), 0)) {
    net::co_spawn(thread_.context(), accept_loop(), [](std::exception_ptr) {});
  }

  ~fake_http_server() { thread_.stop(); }

  url address() const {
    url u;
    u.kind = scheme::http;
    u.host = "127.0.0.1";
    u.port = acceptor_.local_endpoint().port();
    return u;
  }

  int connections() const { return connections_; }
  // Connections the server has shut down after answering.
  int closes() const { return closes_; }
  std::vector<bhttp::request<bhttp::string_body>> requests() const {
    std::lock_guard lock(mutex_);
    return requests_;
  }

 private:
  net::awaitable<void> accept_loop() {
    for (;;) {
      auto socket = co_await acceptor_.async_accept(net::use_awaitable);
      ++connections_;
      net::co_spawn(thread_.context(), serve(std::move(socket)), [](std::exception_ptr) {});
    }
  }

  net::awaitable<void> serve(tcp::socket socket) {
    beast::flat_buffer buffer;
    for (;;) {
      bhttp::request<bhttp::string_body> req;
      co_await bhttp::async_read(socket, buffer, req, net::use_awaitable);
      {
        std::lock_guard lock(mutex_);
        requests_.push_back(req);
      }
      if (mode_ == mode::never_answer) {
        // Hold the connection open until the client gives up.
        char c;
        co_await socket.async_read_some(net::buffer(&c, 1), net::use_awaitable);
        co_return;
      }
      auto res = handler_(req);
      res.version(11);
      res.keep_alive(mode_ != mode::close_after);
      res.prepare_payload();
      co_await bhttp::async_write(socket, res, net::use_awaitable);
      if (mode_ != mode::keep_alive) {
        boost::system::error_code ignored;
        socket.shutdown(tcp::socket::shutdown_both, ignored);
        ++closes_;
        co_return;
      }
    }
  }

  handler handler_;
  mode mode_;
  server_thread thread_;
  tcp::acceptor acceptor_;
  std::atomic<int> connections_{0};
  std::atomic<int> closes_{0};
  mutable std::mutex mutex_;
  std::vector<bhttp::request<bhttp::string_body>> requests_;
};

inline bhttp::response<bhttp::string_body> json_response(unsigned status, std::string body) {
  bhttp::response<bhttp::string_body> res{static_cast<bhttp::status>(status), 11};
  res.set(bhttp::field::content_type, "application/json");
  res.body() = std::move(body);
  return res;
}

}  // namespace chat::client::test
