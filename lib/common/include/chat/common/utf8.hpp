#pragma once
// UTF-8 validation shared by the STOMP codec (headers) and the message types (content).
#include <cstddef>
#include <optional>
#include <string_view>

namespace chat::common {

// True when `s` is well-formed UTF-8 (RFC 3629): no overlong forms, no surrogates,
// nothing above U+10FFFF, no truncated sequences.
bool is_valid_utf8(std::string_view s) noexcept;

// Number of code points in `s`, or nullopt when `s` is not valid UTF-8.
std::optional<std::size_t> utf8_length(std::string_view s) noexcept;

}  // namespace chat::common
