#pragma once
// Which dead letters a command works on (list, stats, export, replay share these flags),
// and the parsers for the flags' values. Pure: the current time is a parameter.
#include "core/dead_letter.hpp"

#include <cstdint>
#include <limits>
#include <optional>
#include <regex>
#include <string>
#include <string_view>

namespace dlt_replay {

// An inclusive offset range: "A-B", "A-" (A and later), "-B" (up to B), "A" (just A).
struct offset_range {
  std::int64_t first = 0;
  std::int64_t last = std::numeric_limits<std::int64_t>::max();

  bool contains(std::int64_t offset) const noexcept { return offset >= first && offset <= last; }
  friend bool operator==(const offset_range&, const offset_range&) = default;
};

std::optional<offset_range> parse_offset_range(std::string_view text) noexcept;

// "PARTITION:OFFSET" of `show`.
struct partition_offset {
  std::int32_t partition = 0;
  std::int64_t offset = 0;
};
std::optional<partition_offset> parse_partition_offset(std::string_view text) noexcept;

// A point in time given on the command line, in Unix milliseconds:
//   RFC 3339 ("2026-11-21T12:00:00Z", "…+02:00"; without a zone it is UTC; ' ' may
//   replace 'T'), a date ("2026-11-21" = its midnight UTC), Unix milliseconds ("1763726400000"),
//   "now", or an age before `now_ms`: "90s", "15m", "2h", "1d", "1w", "1h30m".
std::optional<std::int64_t> parse_time_bound(std::string_view text, std::int64_t now_ms) noexcept;

// --error: "/REGEX/" (ECMAScript; "/REGEX/i" ignores case) searched in, or else plain text
// found (ignoring ASCII case) in, "<error class>: <error message>".
class error_matcher {
 public:
  // nullopt and `why` set when the regex does not compile.
  static std::optional<error_matcher> parse(std::string_view text, std::string& why);
  bool matches(const dead_letter_info& info) const;

 private:
  std::string needle_;  // lower case; empty when regex_ is used
  std::optional<std::regex> regex_;
};

// The text --error is matched against.
std::string error_text(const dead_letter_info& info);

struct filter {
  std::optional<std::int64_t> since_ms;  // time_ms() >= since
  std::optional<std::int64_t> until_ms;  // time_ms() < until
  std::optional<error_matcher> error;
  std::optional<std::string> origin_topic;
  std::optional<std::int32_t> origin_partition;
  std::optional<offset_range> origin_offsets;
  std::optional<std::string> consumer_group;
  std::optional<std::string> room;   // the key, or the payload's roomId
  std::optional<std::string> event;  // the payload's room event (payload_event): "message", "message.edited", ...

  // A dead letter without the field a criterion needs (no time, no origin offset, ...)
  // does not match that criterion.
  bool matches(const dead_letter& d) const;
  bool empty() const noexcept;
};

}  // namespace dlt_replay
