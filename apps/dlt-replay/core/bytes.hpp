#pragma once
// Byte-level decoding shared by the header dialects and the JSONL format: big-endian
// integers (Spring Kafka's binary headers), strict decimal numbers, base64 for bytes that
// are not UTF-8 text. Pure functions; nothing here throws.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace dlt_replay {

// A 4-byte (int32) or 8-byte (int64) two's-complement big-endian integer; nullopt for any
// other length.
std::optional<std::int32_t> decode_be_int32(std::string_view bytes) noexcept;
std::optional<std::int64_t> decode_be_int64(std::string_view bytes) noexcept;

// The 4 or 8 bytes that decode back to `value` (for fixtures and tests).
std::string encode_be_int32(std::int32_t value);
std::string encode_be_int64(std::int64_t value);

// An optionally signed decimal integer with no spaces, no '+', no leading zeros beyond "0",
// fitting in int64. nullopt otherwise.
std::optional<std::int64_t> parse_decimal(std::string_view text) noexcept;

// RFC 4648 base64 with padding. decode_base64 accepts only canonical input (padding
// required, no whitespace); nullopt otherwise.
std::string encode_base64(std::string_view bytes);
std::optional<std::string> decode_base64(std::string_view text);

// True when `bytes` is well-formed UTF-8 and holds no control character other than
// tab, newline and carriage return: safe to show and to carry as a JSON string.
bool is_printable_text(std::string_view bytes) noexcept;

}  // namespace dlt_replay
