#pragma once
// Hand-written JSON output for the hot paths (fan-out serializes every message once per room
// and node). Appends to a caller-owned buffer; no intermediate DOM.
#include <cstdint>
#include <string>
#include <string_view>

namespace chat::proto {

// Appends `text` as a JSON string literal, quotes included. '"', '\\' and every control
// character below U+0020 are escaped (\n, \t, … or \u00XX); valid UTF-8 is copied unchanged.
// Each byte that is not part of a well-formed UTF-8 sequence becomes U+FFFD, so the output is
// always valid JSON and valid UTF-8 whatever the input.
void append_json_string(std::string_view text, std::string& out);

// Appends the decimal form of `value`.
void append_json_int(std::int64_t value, std::string& out);

// to_json(x): a fresh string holding append_json(x, out) for any type of this module.
template <class T>
std::string to_json(const T& value) {
  std::string out;
  append_json(value, out);
  return out;
}

}  // namespace chat::proto
