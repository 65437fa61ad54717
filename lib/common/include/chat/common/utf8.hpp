#pragma once
// The one UTF-8 decoder of the project, shared by the STOMP codec (headers), the message types
// (content) and the JSON writer and validators of chat::proto.
#include <cstddef>
#include <optional>
#include <string_view>

namespace chat::common {

// Decodes the sequence starting at s[i] (i < s.size()) and returns its length (1–4), storing
// the code point in `cp`; returns 0 and leaves `cp` alone when the sequence is malformed
// (RFC 3629: overlong forms, surrogates, above U+10FFFF, truncated, stray continuation bytes).
std::size_t utf8_decode(std::string_view s, std::size_t i, char32_t& cp) noexcept;

// True when `s` is well-formed UTF-8 (RFC 3629): no overlong forms, no surrogates,
// nothing above U+10FFFF, no truncated sequences.
bool is_valid_utf8(std::string_view s) noexcept;

// Number of code points in `s`, or nullopt when `s` is not valid UTF-8.
std::optional<std::size_t> utf8_length(std::string_view s) noexcept;

}  // namespace chat::common
