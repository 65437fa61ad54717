#pragma once
// Timestamps on the wire: ISO-8601 / RFC 3339 in UTC with exactly three fraction digits,
// e.g. "2026-11-21T12:00:00.123Z" (docs/events.md createdAt, docs/stomp.md presence "at"). Internally a timestamp is
// milliseconds since the Unix epoch in an std::int64_t.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace chat::common {

// Length of every string produced by format_iso8601_ms(): "YYYY-MM-DDTHH:MM:SS.mmmZ".
inline constexpr std::size_t iso8601_ms_length = 24;

// The range the four-digit year of the format can express. Inputs outside it are clamped.
inline constexpr std::int64_t min_iso8601_unix_ms = -62'167'219'200'000;  // 0000-01-01T00:00:00.000Z
inline constexpr std::int64_t max_iso8601_unix_ms = 253'402'300'799'999;  // 9999-12-31T23:59:59.999Z

// "2026-11-21T12:00:00.123Z". Pure arithmetic: no locale, no time zone database, thread-safe.
std::string format_iso8601_ms(std::int64_t unix_ms);

// Appends the same 24 characters to `out` (for serializers that build one buffer).
void append_iso8601_ms(std::int64_t unix_ms, std::string& out);

// Parses an RFC 3339 date-time: "YYYY-MM-DDTHH:MM:SS[.fraction](Z|+HH:MM|-HH:MM)".
// 'T' and 'Z' may be lower case. The fraction has 1 to 9 digits; digits past the third are
// truncated (toward the past). A time zone designator is required. Calendar dates are
// checked (leap years included); a leap second (":60") is rejected.
// Returns nullopt for anything else; never throws.
std::optional<std::int64_t> parse_iso8601_ms(std::string_view text) noexcept;

// Wall-clock time (std::chrono::system_clock) in Unix milliseconds.
std::int64_t now_unix_ms() noexcept;

}  // namespace chat::common
