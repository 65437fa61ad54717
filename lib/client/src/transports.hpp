#pragma once
// The two byte transports under a STOMP session: plain TCP and WebSocket. Both expose the
// same small set of operations so that the session is one template over them; completion
// handlers run on the executor the transport was built with (the session's strand).
#include <chat/client/stomp_client.hpp>
#include <chat/client/url.hpp>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/http/field.hpp>
#include <boost/beast/websocket/stream.hpp>

#include <string>
#include <utility>

namespace chat::client::detail {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using tcp = net::ip::tcp;

class tcp_transport {
 public:
  // The whole outbound buffer may go out in one write; frame boundaries do not matter.
  static constexpr bool message_per_frame = false;

  template <class Executor>
  explicit tcp_transport(const Executor& ex) : socket_(ex) {}

  tcp::socket& socket() noexcept { return socket_; }

  template <class Handler>
  void async_handshake(const url&, const stomp_options&, Handler&& handler) {
    net::post(socket_.get_executor(),
              [h = std::forward<Handler>(handler)]() mutable { h(boost::system::error_code{}); });
  }

  template <class Handler>
  void async_read_some(net::mutable_buffer buffer, Handler&& handler) {
    socket_.async_read_some(buffer, std::forward<Handler>(handler));
  }

  template <class Handler>
  void async_write(net::const_buffer buffer, Handler&& handler) {
    net::async_write(socket_, buffer, std::forward<Handler>(handler));
  }

  // Sends FIN after the queued bytes; the peer sees end of stream.
  template <class Handler>
  void async_close(Handler&& handler) {
    boost::system::error_code ignored;
    socket_.shutdown(tcp::socket::shutdown_send, ignored);
    net::post(socket_.get_executor(),
              [h = std::forward<Handler>(handler)]() mutable { h(boost::system::error_code{}); });
  }

  void close() noexcept {
    boost::system::error_code ignored;
    socket_.close(ignored);
  }

 private:
  tcp::socket socket_;
};

class ws_transport {
 public:
  // One STOMP frame per WebSocket message, as browser clients do and brokers expect.
  static constexpr bool message_per_frame = true;

  template <class Executor>
  explicit ws_transport(const Executor& ex) : ws_(ex) {}

  tcp::socket& socket() noexcept { return ws_.next_layer(); }

  template <class Handler>
  void async_handshake(const url& server, const stomp_options& options, Handler&& handler) {
    websocket::stream_base::timeout timeouts{};
    timeouts.handshake_timeout = websocket::stream_base::none();  // the session's timer bounds it
    timeouts.idle_timeout = websocket::stream_base::none();       // STOMP heart-beats watch liveness
    timeouts.keep_alive_pings = false;
    ws_.set_option(timeouts);
    ws_.read_message_max(0);  // the STOMP decoder bounds frames; reads go into a fixed buffer
    ws_.auto_fragment(false);
    const std::string protocols = options.ws_subprotocols;
    ws_.set_option(websocket::stream_base::decorator([protocols](websocket::request_type& req) {
      req.set(beast::http::field::user_agent, "chat-client");
      if (!protocols.empty()) req.set(beast::http::field::sec_websocket_protocol, protocols);
    }));
    host_ = host_port(server);
    ws_.async_handshake(response_, host_, server.path,
                        [this, h = std::forward<Handler>(handler)](const boost::system::error_code& ec) mutable {
                          if (!ec) ws_.text(true);
                          h(ec);
                        });
  }

  // The subprotocol the server chose ("" when it chose none).
  std::string subprotocol() const {
    const auto it = response_.find(beast::http::field::sec_websocket_protocol);
    return it == response_.end() ? std::string() : std::string(it->value());
  }

  template <class Handler>
  void async_read_some(net::mutable_buffer buffer, Handler&& handler) {
    ws_.async_read_some(buffer, std::forward<Handler>(handler));
  }

  template <class Handler>
  void async_write(net::const_buffer buffer, Handler&& handler) {
    ws_.async_write(buffer, std::forward<Handler>(handler));
  }

  template <class Handler>
  void async_close(Handler&& handler) {
    ws_.async_close(websocket::close_code::normal, std::forward<Handler>(handler));
  }

  void close() noexcept {
    boost::system::error_code ignored;
    ws_.next_layer().close(ignored);
  }

 private:
  websocket::stream<tcp::socket> ws_;
  websocket::response_type response_;
  std::string host_;
};

}  // namespace chat::client::detail
