#pragma once
#include <boost/beast/http.hpp>

#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace chat::http {

namespace bhttp = boost::beast::http;
using verb = bhttp::verb;
using status = bhttp::status;
using request = bhttp::request<bhttp::string_body>;
using response = bhttp::response<bhttp::string_body>;

// Sends the response for the request it was made for. Callable from any thread, once.
using responder = std::function<void(response&&)>;

// A streaming response (e.g. text/event-stream, GET /api/rooms/stream): after its head, what
// write() queues is written in order until close(). Thread-safe; never blocks.
class stream_writer {
 public:
  virtual ~stream_writer() = default;
  // Queues `data`. False when the stream has ended, or when more than the server's
  // server_limits::max_stream_buffer bytes would wait for the socket: then the stream ends as
  // `slow` (a reader that does not read).
  virtual bool write(std::string data) = 0;
  // Ends the stream once what is queued is written (HTTP/1.1: the last chunk), then closes.
  virtual void close() = 0;
};

enum class stream_end {
  closed,  // close() finished
  peer,    // the client went away (or sent something after its request)
  slow,    // the buffer bound was passed, or a write stalled for the server's stream_stall_timeout
  error,   // a socket error
};

// Starts a streaming response on the request's connection: `head` gives the status and headers
// (its body is ignored; HTTP/1.1 sends the body chunked). `ended` is called once, from the
// connection's strand, when the stream is over. The connection serves nothing else afterwards.
using stream_opener =
    std::function<std::shared_ptr<stream_writer>(response head, std::function<void(stream_end)> ended)>;

// A JSON response; `body` must already be JSON.
response json_response(status st, std::string body);
// {"error":{"code":…,"message":…}} with the given status.
response error_response(status st, std::string_view code, std::string_view message);

}  // namespace chat::http
