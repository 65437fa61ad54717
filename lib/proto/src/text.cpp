#include "text.hpp"

#include <chat/common/time.hpp>
#include <chat/common/utf8.hpp>
#include <chat/proto/json.hpp>

namespace chat::proto::detail {

std::string_view trim_ascii_space(std::string_view s) noexcept {
  while (!s.empty() && is_ascii_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_ascii_space(s.back())) s.remove_suffix(1);
  return s;
}

bool is_blank(std::string_view s) noexcept { return trim_ascii_space(s).empty(); }

bool has_forbidden_name_characters(std::string_view s) noexcept {
  std::size_t i = 0;
  while (i < s.size()) {
    char32_t cp = 0;
    const std::size_t n = common::utf8_decode(s, i, cp);
    if (n == 0) return true;
    if (cp < 0x20 || (cp >= 0x7F && cp <= 0x9F) || cp == 0x2028 || cp == 0x2029 || (cp >= 0x202A && cp <= 0x202E) ||
        (cp >= 0x2066 && cp <= 0x2069)) {
      return true;
    }
    i += n;
  }
  return false;
}

void append_timestamp(std::int64_t unix_ms, std::string& out) {
  out.push_back('"');
  common::append_iso8601_ms(unix_ms, out);
  out.push_back('"');
}

void append_nullable_string(const std::optional<std::string>& text, std::string& out) {
  if (text) {
    append_json_string(*text, out);
  } else {
    out.append("null");
  }
}

}  // namespace chat::proto::detail
