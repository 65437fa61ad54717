#include <chat/common/utf8.hpp>

#include <cstdint>

namespace chat::common {
namespace {

// Decodes one sequence starting at s[i]; returns its length or 0 when malformed.
std::size_t sequence_length(std::string_view s, std::size_t i) noexcept {
  const auto byte = [&](std::size_t k) { return static_cast<std::uint8_t>(s[k]); };
  const std::uint8_t b0 = byte(i);
  if (b0 < 0x80) return 1;
  std::size_t len;
  std::uint32_t cp;
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    len = 2;
    cp = b0 & 0x1Fu;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    len = 3;
    cp = b0 & 0x0Fu;
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    len = 4;
    cp = b0 & 0x07u;
  } else {
    return 0;  // continuation byte as lead, 0xC0/0xC1 overlong leads, or > 0xF4
  }
  if (i + len > s.size()) return 0;
  for (std::size_t k = 1; k < len; ++k) {
    const std::uint8_t b = byte(i + k);
    if ((b & 0xC0u) != 0x80u) return 0;
    cp = (cp << 6) | (b & 0x3Fu);
  }
  if (len == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) return 0;
  if (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)) return 0;
  return len;
}

}  // namespace

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
    const std::size_t n = sequence_length(s, i);
    if (n == 0) return std::nullopt;
    i += n;
    ++count;
  }
  return count;
}

bool is_valid_utf8(std::string_view s) noexcept { return utf8_length(s).has_value(); }

}  // namespace chat::common
