#pragma once
// Text rules shared by the parsers (internal to chat_proto).
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace chat::proto::detail {

constexpr bool is_ascii_space(char c) noexcept {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

std::string_view trim_ascii_space(std::string_view s) noexcept;

// True when `s` is empty or only ASCII whitespace.
bool is_blank(std::string_view s) noexcept;

// For display names (nicknames, room names): true when valid UTF-8 `s` contains a control
// character (C0, DEL, C1), a line or paragraph separator (U+2028, U+2029) or a bidirectional
// override/isolate (U+202A–U+202E, U+2066–U+2069), which could make a name render as
// another. Invalid UTF-8 also answers true.
bool has_forbidden_name_characters(std::string_view s) noexcept;

// JSON writing shared by the encoders: a timestamp as a quoted ISO-8601 string with
// milliseconds; an optional string, or null.
void append_timestamp(std::int64_t unix_ms, std::string& out);
void append_nullable_string(const std::optional<std::string>& text, std::string& out);

}  // namespace chat::proto::detail
