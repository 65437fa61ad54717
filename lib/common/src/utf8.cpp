#include <chat/common/utf8.hpp>

#include <cstdint>

namespace chat::common {

std::size_t utf8_decode(std::string_view s, std::size_t i, char32_t& cp) noexcept {
  const auto b0 = static_cast<std::uint8_t>(s[i]);
  if (b0 < 0x80) {
    cp = b0;
    return 1;
  }
  std::size_t len;
  char32_t value;
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    len = 2;
    value = b0 & 0x1Fu;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    len = 3;
    value = b0 & 0x0Fu;
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    len = 4;
    value = b0 & 0x07u;
  } else {
    return 0;  // continuation byte as lead, 0xC0/0xC1 overlong leads, or > 0xF4
  }
  if (s.size() - i < len) return 0;
  for (std::size_t k = 1; k < len; ++k) {
    const auto b = static_cast<std::uint8_t>(s[i + k]);
    if ((b & 0xC0u) != 0x80u) return 0;
    value = (value << 6) | (b & 0x3Fu);
  }
  if (len == 3 && (value < 0x800 || (value >= 0xD800 && value <= 0xDFFF))) return 0;
  if (len == 4 && (value < 0x10000 || value > 0x10FFFF)) return 0;
  cp = value;
  return len;
}

std::optional<std::size_t> utf8_length(std::string_view s) noexcept {
  std::size_t count = 0;
  std::size_t i = 0;
  while (i < s.size()) {
    // Fast path for ASCII runs.
    if (static_cast<std::uint8_t>(s[i]) < 0x80) {
      ++i;
      ++count;
      continue;
    }
    char32_t cp = 0;
    const std::size_t n = utf8_decode(s, i, cp);
    if (n == 0) return std::nullopt;
    i += n;
    ++count;
  }
  return count;
}

bool is_valid_utf8(std::string_view s) noexcept { return utf8_length(s).has_value(); }

}  // namespace chat::common
