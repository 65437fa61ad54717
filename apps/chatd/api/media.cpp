#include "api/media.hpp"

#include <chat/common/utf8.hpp>

namespace chat::chatd::api {
namespace {

std::uint32_t byte_at(std::string_view s, std::size_t i) noexcept { return static_cast<unsigned char>(s[i]); }

std::uint32_t be16(std::string_view s, std::size_t i) noexcept { return (byte_at(s, i) << 8) | byte_at(s, i + 1); }
std::uint32_t be32(std::string_view s, std::size_t i) noexcept { return (be16(s, i) << 16) | be16(s, i + 2); }
std::uint32_t le16(std::string_view s, std::size_t i) noexcept { return byte_at(s, i) | (byte_at(s, i + 1) << 8); }
std::uint32_t le24(std::string_view s, std::size_t i) noexcept { return le16(s, i) | (byte_at(s, i + 2) << 16); }

std::optional<image_size> sized(std::uint32_t width, std::uint32_t height) noexcept {
  if (width == 0 || height == 0) return std::nullopt;
  return image_size{width, height};
}

constexpr std::string_view png_signature("\x89PNG\r\n\x1a\n", 8);

bool is_token_char(char c) noexcept {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  switch (c) {
    case '!':
    case '#':
    case '$':
    case '%':
    case '&':
    case '\'':
    case '*':
    case '+':
    case '-':
    case '.':
    case '^':
    case '_':
    case '`':
    case '|':
    case '~': return true;
    default: return false;
  }
}

bool is_token(std::string_view s) noexcept {
  if (s.empty()) return false;
  for (char c : s) {
    if (!is_token_char(c)) return false;
  }
  return true;
}

std::string_view trim_ows(std::string_view s) noexcept {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

std::optional<image_format> image_format_of_mime(std::string_view mime_type) noexcept {
  const auto essence = essence_of(mime_type);
  if (essence == "image/png") return image_format::png;
  if (essence == "image/jpeg") return image_format::jpeg;
  if (essence == "image/gif") return image_format::gif;
  if (essence == "image/webp") return image_format::webp;
  return std::nullopt;
}

std::string_view mime_of(image_format format) noexcept {
  switch (format) {
    case image_format::png: return "image/png";
    case image_format::jpeg: return "image/jpeg";
    case image_format::gif: return "image/gif";
    case image_format::webp: return "image/webp";
  }
  return "application/octet-stream";
}

std::optional<image_format> sniff_image(std::string_view b) noexcept {
  if (b.starts_with(png_signature)) return image_format::png;
  if (b.size() >= 3 && byte_at(b, 0) == 0xFF && byte_at(b, 1) == 0xD8 && byte_at(b, 2) == 0xFF) {
    return image_format::jpeg;
  }
  if (b.starts_with("GIF87a") || b.starts_with("GIF89a")) return image_format::gif;
  if (b.size() >= 12 && b.starts_with("RIFF") && b.substr(8, 4) == "WEBP") return image_format::webp;
  return std::nullopt;
}

std::optional<image_size> png_size(std::string_view b) noexcept {
  // signature (8), IHDR length (4) = 13, "IHDR", width (4, big-endian), height (4)
  if (b.size() < 24 || !b.starts_with(png_signature) || be32(b, 8) != 13 || b.substr(12, 4) != "IHDR") {
    return std::nullopt;
  }
  const auto width = be32(b, 16);
  const auto height = be32(b, 20);
  if (width > 0x7FFFFFFF || height > 0x7FFFFFFF) return std::nullopt;  // the PNG limit (2^31-1)
  return sized(width, height);
}

std::optional<image_size> jpeg_size(std::string_view b) noexcept {
  if (b.size() < 4 || byte_at(b, 0) != 0xFF || byte_at(b, 1) != 0xD8) return std::nullopt;
  std::size_t i = 2;
  while (i < b.size()) {
    if (byte_at(b, i) != 0xFF) return std::nullopt;     // not at a marker: corrupt
    while (i < b.size() && byte_at(b, i) == 0xFF) ++i;  // fill bytes
    if (i >= b.size()) return std::nullopt;
    const auto marker = byte_at(b, i++);
    // Markers without a length: TEM, RSTn, SOI.
    if (marker == 0x01 || (marker >= 0xD0 && marker <= 0xD8)) continue;
    // End of image or start of scan before any frame header: no size to read.
    if (marker == 0xD9 || marker == 0xDA || marker == 0x00) return std::nullopt;
    if (i + 2 > b.size()) return std::nullopt;
    const auto length = be16(b, i);  // includes its own two bytes
    if (length < 2) return std::nullopt;
    const bool frame_header = marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC;
    if (frame_header) {
      // length (2), sample precision (1), height (2), width (2)
      if (length < 7 || i + 7 > b.size()) return std::nullopt;
      return sized(be16(b, i + 5), be16(b, i + 3));
    }
    i += length;
  }
  return std::nullopt;
}

std::optional<image_size> gif_size(std::string_view b) noexcept {
  if (b.size() < 10 || !(b.starts_with("GIF87a") || b.starts_with("GIF89a"))) return std::nullopt;
  return sized(le16(b, 6), le16(b, 8));
}

std::optional<image_size> webp_size(std::string_view b) noexcept {
  // "RIFF" size "WEBP", then the first chunk: fourcc (4), chunk size (4), payload from 20.
  if (b.size() < 20 || !b.starts_with("RIFF") || b.substr(8, 4) != "WEBP") return std::nullopt;
  const auto chunk = b.substr(12, 4);
  if (chunk == "VP8 ") {
    // frame tag (3), start code 9D 01 2A, then 14-bit width and height (2 scale bits above).
    if (b.size() < 30 || byte_at(b, 23) != 0x9D || byte_at(b, 24) != 0x01 || byte_at(b, 25) != 0x2A) {
      return std::nullopt;
    }
    return sized(le16(b, 26) & 0x3FFF, le16(b, 28) & 0x3FFF);
  }
  if (chunk == "VP8L") {
    // signature 0x2F, then width-1 (14 bits) and height-1 (14 bits), little-endian bit order.
    if (b.size() < 25 || byte_at(b, 20) != 0x2F) return std::nullopt;
    const auto b0 = byte_at(b, 21), b1 = byte_at(b, 22), b2 = byte_at(b, 23), b3 = byte_at(b, 24);
    const std::uint32_t width = 1 + (((b1 & 0x3F) << 8) | b0);
    const std::uint32_t height = 1 + (((b3 & 0x0F) << 10) | (b2 << 2) | ((b1 & 0xC0) >> 6));
    return sized(width, height);
  }
  if (chunk == "VP8X") {
    // flags (1), reserved (3), canvas width-1 (24 bits), canvas height-1 (24 bits)
    if (b.size() < 30) return std::nullopt;
    return sized(le24(b, 24) + 1, le24(b, 27) + 1);
  }
  return std::nullopt;
}

std::optional<image_size> image_dimensions(image_format format, std::string_view bytes) noexcept {
  switch (format) {
    case image_format::png: return png_size(bytes);
    case image_format::jpeg: return jpeg_size(bytes);
    case image_format::gif: return gif_size(bytes);
    case image_format::webp: return webp_size(bytes);
  }
  return std::nullopt;
}

std::string_view essence_of(std::string_view mime_type) noexcept {
  return trim_ows(mime_type.substr(0, mime_type.find(';')));
}

std::optional<std::string> normalize_mime_type(std::string_view value, std::size_t max_bytes) {
  value = trim_ows(value);
  if (value.empty() || value.size() > max_bytes) return std::nullopt;
  for (char c : value) {
    const auto u = static_cast<unsigned char>(c);
    if ((u < 0x20 && c != '\t') || u == 0x7F || u >= 0x80) return std::nullopt;
  }
  const auto semicolon = value.find(';');
  const std::string_view essence = trim_ows(value.substr(0, semicolon));
  const auto slash = essence.find('/');
  if (slash == std::string_view::npos || !is_token(essence.substr(0, slash)) || !is_token(essence.substr(slash + 1))) {
    return std::nullopt;
  }
  std::string out(essence);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  if (semicolon != std::string_view::npos) {
    const auto params = trim_ows(value.substr(semicolon + 1));
    if (!params.empty()) {
      out += "; ";
      out += params;
    }
  }
  return out;
}

std::optional<std::string> clean_file_name(std::string_view name, std::size_t max_code_points) {
  if (const auto sep = name.find_last_of("/\\"); sep != std::string_view::npos) name = name.substr(sep + 1);
  name = trim_ows(name);
  if (name.empty() || name == "." || name == "..") return std::nullopt;
  std::size_t count = 0;
  for (std::size_t i = 0; i < name.size();) {
    char32_t cp = 0;
    const auto n = common::utf8_decode(name, i, cp);
    if (n == 0) return std::nullopt;
    if (cp < 0x20 || (cp >= 0x7F && cp <= 0x9F)) return std::nullopt;
    i += n;
    if (++count > max_code_points) return std::nullopt;
  }
  return std::string(name);
}

std::string content_disposition(std::string_view name, bool inline_disposition) {
  static constexpr char hex[] = "0123456789ABCDEF";
  std::string out = inline_disposition ? "inline" : "attachment";
  out += "; filename=\"";
  for (char ch : name) {
    const auto c = static_cast<unsigned char>(ch);
    const bool plain = c >= 0x20 && c < 0x7F && ch != '"' && ch != '\\' && ch != '%';
    out.push_back(plain ? ch : '_');
  }
  out += "\"; filename*=UTF-8''";
  for (char ch : name) {
    const auto c = static_cast<unsigned char>(ch);
    // RFC 8187 attr-char: ALPHA / DIGIT / "!" / "#" / "$" / "&" / "+" / "-" / "." / "^" / "_" / "`" / "|" / "~"
    const bool attr_char = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || ch == '!' ||
                           ch == '#' || ch == '$' || ch == '&' || ch == '+' || ch == '-' || ch == '.' || ch == '^' ||
                           ch == '_' || ch == '`' || ch == '|' || ch == '~';
    if (attr_char) {
      out.push_back(ch);
    } else {
      out.push_back('%');
      out.push_back(hex[c >> 4]);
      out.push_back(hex[c & 0xF]);
    }
  }
  return out;
}

}  // namespace chat::chatd::api
