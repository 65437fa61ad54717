#pragma once
// What an upload is (POST /api/files, docs/rest.md "Files"): the image formats whose magic
// bytes are checked against the declared type and whose width and height are read from their
// headers, MIME type syntax, file names. Pure functions over bytes, unit-tested
// (tests/unit/chatd_api/media_test.cpp); nothing here decodes pixels.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace chat::chatd::api {

enum class image_format { png, jpeg, gif, webp };

struct image_size {
  std::uint32_t width = 0;
  std::uint32_t height = 0;

  friend bool operator==(const image_size&, const image_size&) = default;
};

// image/png, image/jpeg, image/gif, image/webp (a normalized MIME type, see normalize_mime_type)
// -> the format whose magic bytes the upload must start with; nullopt for any other type.
std::optional<image_format> image_format_of_mime(std::string_view mime_type) noexcept;
// "image/png" …
std::string_view mime_of(image_format format) noexcept;
// The format the bytes start with (PNG signature, JPEG SOI + marker, GIF87a/GIF89a,
// RIFF....WEBP), or nullopt.
std::optional<image_format> sniff_image(std::string_view bytes) noexcept;

// Width and height from the headers, or nullopt when they cannot be read (truncated, a zero
// dimension, not that format):
// PNG: the IHDR chunk, which must come first. JPEG: the first SOFn segment (C0–CF but C4, C8,
// CC) found by walking the marker segments before the scan. GIF: the logical screen
// descriptor. WebP: the first chunk: VP8 (lossy frame header), VP8L (lossless, 14-bit
// dimensions) or VP8X (extended: 24-bit canvas size).
std::optional<image_size> png_size(std::string_view bytes) noexcept;
std::optional<image_size> jpeg_size(std::string_view bytes) noexcept;
std::optional<image_size> gif_size(std::string_view bytes) noexcept;
std::optional<image_size> webp_size(std::string_view bytes) noexcept;
std::optional<image_size> image_dimensions(image_format format, std::string_view bytes) noexcept;

// A Content-Type value as stored and served: "type/subtype" lower-cased, parameters kept
// ("text/plain; charset=utf-8"). nullopt when the value is not type "/" subtype made of RFC
// 9110 token characters, has control characters, or is longer than max_bytes.
std::optional<std::string> normalize_mime_type(std::string_view value, std::size_t max_bytes);
// "text/plain; charset=utf-8" -> "text/plain".
std::string_view essence_of(std::string_view mime_type) noexcept;

// A client's file name made safe to store and show: the part after the last '/' or '\',
// trimmed of spaces; nullopt when it is then empty, ".", "..", not UTF-8, has control
// characters (C0, DEL, C1) or more than max_code_points code points.
std::optional<std::string> clean_file_name(std::string_view name, std::size_t max_code_points);

// The value of a Content-Disposition header for `name` (RFC 6266): `inline` or `attachment`,
// then an ASCII fallback filename="…" (non-ASCII, '"', '\', '%' and controls replaced by '_')
// and filename*=UTF-8''<percent-encoded name>.
std::string content_disposition(std::string_view name, bool inline_disposition);

}  // namespace chat::chatd::api
