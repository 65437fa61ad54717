#pragma once
// Why the decoder rejected a stream. Every value is fatal for the connection: the session
// answers with an ERROR frame whose `message` header is the category's message() text,
// then closes.
#include <system_error>

namespace chat::stomp {

enum class errc {
  // 0 is success in std::error_code, so the enumerators start at 1.
  frame_too_large = 1,   // command + headers + body exceed limits::max_frame_bytes
  too_many_headers,      // more than limits::max_headers header lines
  header_line_too_long,  // a command or header line longer than limits::max_header_line
  unknown_command,       // the command line is not a STOMP 1.2 command
  malformed_header,      // a header line without ':' or with an empty name
  bad_escape,            // a backslash not followed by r, n, c or backslash
  bad_utf8,              // the command or a header line is not valid UTF-8
  bad_content_length,    // content-length is not a decimal number or exceeds the frame limit
  missing_nul,           // the octet after a content-length body is not NUL
  bad_line_ending,       // a CR not followed by LF in the command or header section
  unexpected_nul,        // a NUL octet inside the command or header section
};

// The "chat.stomp" category. Messages are short, single-line and free of ':' so that they
// can go verbatim into an ERROR frame's `message` header, escaped or not.
const std::error_category& stomp_category() noexcept;

std::error_code make_error_code(errc e) noexcept;

}  // namespace chat::stomp

template <>
struct std::is_error_code_enum<chat::stomp::errc> : std::true_type {};
