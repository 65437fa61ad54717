#pragma once
// Asynchronous STOMP 1.2 client session over plain TCP (tcp://, stomp://) or WebSocket
// (ws://, subprotocols v12.stomp, v11.stomp, v10.stomp), built on chat::stomp's decoder and
// encoder. Light enough for one process to hold 10,000 sessions: one strand, one timer, one
// read buffer and two outbound buffers per session; sending a frame allocates nothing once
// the buffers have grown to their working size.
//
// Threading: the caller runs the io_context (any number of threads). Each session lives on its
// own strand, and every callback runs on it. The member functions below (but executor() and
// create()) must be called on that strand — from a callback, from a handler dispatched to
// executor() — or before the io_context runs.
//
//   auto s = stomp_client::create(ioc.get_executor(), options, {
//       .on_connected = [&](const stomp::frame&) { s->subscribe("/topic/room.7", "sub-0"); },
//       .on_message = [&](stomp::frame& f) { use(f.body); },
//       .on_closed = [&](std::error_code ec) { ... },
//   });
//   s->connect();
//   ioc.run();
#include <chat/client/url.hpp>
#include <chat/stomp/decoder.hpp>
#include <chat/stomp/frame.hpp>
#include <chat/stomp/negotiation.hpp>

#include <boost/asio/any_io_executor.hpp>

#include <chrono>
#include <cstddef>
#include <functional>
#include <initializer_list>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace chat::client {

// A header to put into an outgoing frame; views only, nothing is copied until encoding.
struct header_view {
  std::string_view name;
  std::string_view value;
};

struct stomp_options {
  url server;  // scheme ws or tcp
  // CONNECT credentials: "Authorization: Bearer <token>" when token is set; login/passcode
  // headers when set (both may be given).
  std::string token;
  std::string login;
  std::string passcode;
  std::string virtual_host;            // CONNECT "host" header; empty = server.host
  std::string accept_version = "1.2";  // e.g. "1.0,1.1,1.2"
  // What this client offers: cx = it can send every cx ms, cy = it wants one every cy ms.
  stomp::heart_beat heart_beat{10000, 10000};
  std::vector<stomp::header> connect_headers;  // added to CONNECT as given
  // WebSocket subprotocols offered (Sec-WebSocket-Protocol).
  std::string ws_subprotocols = "v12.stomp, v11.stomp, v10.stomp";

  // TCP connect + WebSocket handshake + CONNECT until CONNECTED.
  std::chrono::milliseconds connect_timeout{10000};
  // DISCONNECT until its RECEIPT; then the connection is closed regardless.
  std::chrono::milliseconds disconnect_timeout{5000};
  // Encoded frames waiting to be written, in octets; a send beyond it fails with queue_full.
  std::size_t max_outbound_bytes = 256 * 1024;
  std::size_t read_buffer_bytes = 4096;
  stomp::limits limits;  // bounds on frames received from the server
};

// Every callback runs on the session's strand. Each may be empty.
struct stomp_handlers {
  std::function<void(const stomp::frame& connected)> on_connected;
  // MESSAGE frames; the frame may be moved from.
  std::function<void(stomp::frame& message)> on_message;
  // RECEIPT frames (the DISCONNECT receipt included); `receipt` is its full frame.
  std::function<void(std::string_view receipt_id, const stomp::frame& receipt)> on_receipt;
  // An ERROR frame; the server closes the connection next (on_closed(errc::server_error)),
  // unless the frame carries session-closes:false: one frame (its receipt-id) was refused
  // and the session goes on.
  std::function<void(const stomp::frame& error)> on_error;
  // Exactly once per connect(): the session is over. No error after a DISCONNECT whose
  // receipt arrived; otherwise why (errc values, or the socket's error).
  std::function<void(std::error_code reason)> on_closed;
};

class stomp_client {
 public:
  enum class state {
    idle,        // created, connect() not called yet
    connecting,  // resolving, TCP, WebSocket handshake, CONNECT sent
    connected,   // CONNECTED received
    disconnecting,
    closed,
  };

  // The session's strand is made from `executor`.
  static std::shared_ptr<stomp_client> create(const boost::asio::any_io_executor& executor, stomp_options options,
                                              stomp_handlers handlers);

  virtual ~stomp_client() = default;

  // The strand: dispatch work here to call the functions below from another thread.
  virtual boost::asio::any_io_executor executor() const = 0;

  // Resolves, connects, performs the WebSocket handshake when ws://, sends CONNECT. Ends with
  // on_connected or on_closed. Only once per session.
  virtual void connect() = 0;

  // Frames are queued (within max_outbound_bytes) and written in order. Each returns
  // errc::not_connected unless connected, errc::queue_full when the queue has no room.
  // An empty `receipt` asks for none.
  virtual std::error_code subscribe(std::string_view destination, std::string_view id,
                                    std::span<const header_view> headers = {}, std::string_view receipt = {}) = 0;
  virtual std::error_code unsubscribe(std::string_view id, std::string_view receipt = {}) = 0;
  virtual std::error_code send(std::string_view destination, std::string_view body,
                               std::span<const header_view> headers = {}, std::string_view receipt = {}) = 0;
  // Any other client frame (ACK, NACK, ...), headers as given.
  virtual std::error_code send_frame(stomp::command cmd, std::span<const header_view> headers,
                                     std::string_view body = {}) = 0;

  // DISCONNECT with `receipt`; the connection closes when the RECEIPT arrives, or after
  // disconnect_timeout. on_closed follows.
  virtual std::error_code disconnect(std::string_view receipt = "disconnect") = 0;
  // Closes the connection now (on_closed(errc::aborted) unless already closed).
  virtual void close() = 0;

  virtual state current_state() const noexcept = 0;
  // Negotiated protocol version (1.2 until CONNECTED says otherwise).
  virtual stomp::version version() const noexcept = 0;
  // Negotiated heart-beat intervals in ms (0 = off): send_every_ms = client → server,
  // expect_every_ms = server → client.
  virtual stomp::heart_beat_plan heart_beats() const noexcept = 0;
  // Octets queued and not yet written.
  virtual std::size_t outbound_bytes() const noexcept = 0;
};

std::string_view to_string(stomp_client::state s) noexcept;

// Convenience overloads taking a braced list of headers.
inline std::error_code send(stomp_client& c, std::string_view destination, std::string_view body,
                            std::initializer_list<header_view> headers, std::string_view receipt = {}) {
  return c.send(destination, body, std::span<const header_view>(headers.begin(), headers.size()), receipt);
}

}  // namespace chat::client
