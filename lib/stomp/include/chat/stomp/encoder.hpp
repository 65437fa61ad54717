#pragma once
// STOMP frame encoder: appends the wire form of a frame to a caller-owned buffer. The one
// place that knows the layout (command LF, headers, LF, body, NUL) and the escaping rules;
// the gateway and the client write every frame through it.
#include <chat/stomp/frame.hpp>

#include <cstddef>
#include <string>
#include <string_view>

namespace chat::stomp {

struct encode_options {
  // true: escape header names and values per STOMP 1.2 (CONNECT, STOMP and CONNECTED
  // frames are never escaped). false: write them literally, for STOMP 1.0 sessions.
  bool escape = true;
};

// Writes one frame piece by piece into `out` without building a `frame` first (the fan-out
// path writes a per-session prefix and shares the rest). It appends only; the caller owns
// the buffer and may cut it back. Headers go out in call order; nothing is added behind the
// caller's back (content-length only when content_length() is called).
// Unescaped headers (1.0 sessions, CONNECT/CONNECTED) cannot carry LF or CR, nor ':' in a
// name; the caller must not put them there.
class frame_writer {
 public:
  // Starts a frame: appends "COMMAND\n". Escaping applies unless `cmd` is escape-exempt.
  frame_writer(std::string& out, command cmd, encode_options options = {});

  // Continues a frame whose command line (and possibly first headers) are in another buffer:
  // appends headers and the end of the frame only.
  static frame_writer continuation(std::string& out, encode_options options = {}) noexcept {
    return frame_writer(out, options.escape);
  }

  frame_writer& header(std::string_view name, std::string_view value);
  frame_writer& content_length(std::size_t body_size);
  // Ends the header block and appends the body and the terminating NUL.
  void finish(std::string_view body = {});

 private:
  frame_writer(std::string& out, bool escape) noexcept : out_(out), escape_(escape) {}

  std::string& out_;
  bool escape_;
};

// Appends command LF, the headers, LF, the body and NUL to `out`. A content-length header
// is added when the body is not empty and the frame has none; an existing one is written
// as given (the caller vouches for it).
void encode(const frame& f, std::string& out, encode_options options = {});
std::string encode(const frame& f, encode_options options = {});

// A heart-beat: one LF.
void encode_heartbeat(std::string& out);

// Appends `text` with STOMP 1.2 escapes applied (\\ \n \r \c).
void append_escaped(std::string& out, std::string_view text);

}  // namespace chat::stomp
