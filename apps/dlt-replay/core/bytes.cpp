#include "core/bytes.hpp"

#include <chat/common/utf8.hpp>

#include <array>
#include <charconv>
#include <type_traits>

namespace dlt_replay {

namespace {

template <class T>
std::optional<T> decode_be(std::string_view bytes) noexcept {
  if (bytes.size() != sizeof(T)) return std::nullopt;
  std::uint64_t v = 0;
  for (const char c : bytes) v = (v << 8) | static_cast<unsigned char>(c);
  using unsigned_t = std::make_unsigned_t<T>;
  return static_cast<T>(static_cast<unsigned_t>(v));  // two's complement (C++20)
}

template <class T>
std::string encode_be(T value) {
  using unsigned_t = std::make_unsigned_t<T>;
  auto v = static_cast<unsigned_t>(value);
  std::string out(sizeof(T), '\0');
  for (std::size_t i = sizeof(T); i-- > 0;) {
    out[i] = static_cast<char>(v & 0xFF);
    v = static_cast<unsigned_t>(v >> 8);
  }
  return out;
}

constexpr std::string_view base64_alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int base64_value(char c) noexcept {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

}  // namespace

std::optional<std::int32_t> decode_be_int32(std::string_view bytes) noexcept { return decode_be<std::int32_t>(bytes); }
std::optional<std::int64_t> decode_be_int64(std::string_view bytes) noexcept { return decode_be<std::int64_t>(bytes); }
std::string encode_be_int32(std::int32_t value) { return encode_be(value); }
std::string encode_be_int64(std::int64_t value) { return encode_be(value); }

std::optional<std::int64_t> parse_decimal(std::string_view text) noexcept {
  std::string_view digits = text;
  if (!digits.empty() && digits.front() == '-') digits.remove_prefix(1);
  if (digits.empty() || (digits.size() > 1 && digits.front() == '0')) return std::nullopt;
  std::int64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size()) return std::nullopt;
  if (text == "-0") return std::nullopt;
  return value;
}

std::string encode_base64(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    const std::uint32_t n = (static_cast<unsigned char>(bytes[i]) << 16) |
                            (static_cast<unsigned char>(bytes[i + 1]) << 8) | static_cast<unsigned char>(bytes[i + 2]);
    out += base64_alphabet[(n >> 18) & 63];
    out += base64_alphabet[(n >> 12) & 63];
    out += base64_alphabet[(n >> 6) & 63];
    out += base64_alphabet[n & 63];
  }
  const std::size_t rest = bytes.size() - i;
  if (rest == 1) {
    const std::uint32_t n = static_cast<unsigned char>(bytes[i]) << 16;
    out += base64_alphabet[(n >> 18) & 63];
    out += base64_alphabet[(n >> 12) & 63];
    out += "==";
  } else if (rest == 2) {
    const std::uint32_t n =
        (static_cast<unsigned char>(bytes[i]) << 16) | (static_cast<unsigned char>(bytes[i + 1]) << 8);
    out += base64_alphabet[(n >> 18) & 63];
    out += base64_alphabet[(n >> 12) & 63];
    out += base64_alphabet[(n >> 6) & 63];
    out += '=';
  }
  return out;
}

std::optional<std::string> decode_base64(std::string_view text) {
  if (text.size() % 4 != 0) return std::nullopt;
  std::string out;
  out.reserve(text.size() / 4 * 3);
  for (std::size_t i = 0; i < text.size(); i += 4) {
    const bool last = i + 4 == text.size();
    std::array<int, 4> v{};
    int padding = 0;
    for (std::size_t j = 0; j < 4; ++j) {
      const char c = text[i + j];
      if (c == '=' && last && j >= 2) {
        v[j] = 0;
        ++padding;
        continue;
      }
      if (padding > 0) return std::nullopt;  // data after '='
      v[j] = base64_value(c);
      if (v[j] < 0) return std::nullopt;
    }
    const std::uint32_t n = (v[0] << 18) | (v[1] << 12) | (v[2] << 6) | v[3];
    out += static_cast<char>((n >> 16) & 0xFF);
    if (padding < 2) out += static_cast<char>((n >> 8) & 0xFF);
    if (padding < 1) out += static_cast<char>(n & 0xFF);
    // Canonical form only: the bits dropped by padding must be zero.
    if ((padding == 1 && (v[2] & 0x3) != 0) || (padding == 2 && (v[1] & 0xF) != 0)) return std::nullopt;
  }
  return out;
}

bool is_printable_text(std::string_view bytes) noexcept {
  for (const char c : bytes) {
    const auto u = static_cast<unsigned char>(c);
    if ((u < 0x20 && c != '\t' && c != '\n' && c != '\r') || u == 0x7F) return false;
  }
  return chat::common::is_valid_utf8(bytes);
}

}  // namespace dlt_replay
