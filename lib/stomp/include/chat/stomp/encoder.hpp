#pragma once
// STOMP frame encoder: appends the wire form of a frame to a caller-owned buffer.
#include <chat/stomp/frame.hpp>

#include <string>

namespace chat::stomp {

struct encode_options {
  // true: escape header names and values per STOMP 1.2 (CONNECT, STOMP and CONNECTED
  // frames are never escaped). false: write them literally, for STOMP 1.0 sessions.
  bool escape = true;
};

// Appends command LF, the headers, LF, the body and NUL to `out`. A content-length header
// is added when the body is not empty and the frame has none; an existing one is written
// as given (the caller vouches for it).
// Unescaped headers (1.0 sessions, CONNECT/CONNECTED) cannot carry LF or CR, nor ':' in a
// name; the caller must not put them there.
void encode(const frame& f, std::string& out, encode_options options = {});
std::string encode(const frame& f, encode_options options = {});

// A heart-beat: one LF.
void encode_heartbeat(std::string& out);

// Appends `text` with STOMP 1.2 escapes applied (\\ \n \r \c).
void append_escaped(std::string& out, std::string_view text);

}  // namespace chat::stomp
