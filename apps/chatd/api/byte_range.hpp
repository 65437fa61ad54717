#pragma once
// The Range header of GET /api/files/{id} (RFC 9110 §14): one byte range. Pure,
// unit-tested (tests/unit/chatd_api/byte_range_test.cpp).
#include <cstdint>
#include <string_view>

namespace chat::chatd::api {

struct byte_range {
  std::uint64_t first = 0;
  std::uint64_t last = 0;  // inclusive

  std::uint64_t length() const noexcept { return last - first + 1; }
  friend bool operator==(const byte_range&, const byte_range&) = default;
};

enum class range_kind {
  whole,          // no Range, or one the server ignores: 200 with the whole file
  partial,        // 206 with `range`
  unsatisfiable,  // 416 with Content-Range: bytes */size
};

struct range_request {
  range_kind kind = range_kind::whole;
  byte_range range;

  friend bool operator==(const range_request&, const range_request&) = default;
};

// Reads `header` (the Range value; empty = absent) for a file of `size` bytes:
//   bytes=a-b  a..min(b, size-1)      bytes=a-  a..size-1      bytes=-n  the last n bytes (all if n >= size)
// A first byte at or past the end, or a suffix of 0 bytes (or any range of an empty file), is
// unsatisfiable. Ignored (whole): another unit, a malformed value (a > b, signs, spaces inside
// numbers, numbers above 2^63), and several ranges (bytes=0-1,5-6: allowed by RFC 9110, which
// lets a server ignore Range; multipart/byteranges answers are not produced).
range_request parse_range(std::string_view header, std::uint64_t size) noexcept;

}  // namespace chat::chatd::api
