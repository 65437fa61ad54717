#pragma once
// Scheduled messages (SPEC §16, docs/rest.md "Scheduled messages"): the request of
// POST /api/rooms/{id}/scheduled and the schedule the routes answer. Same conventions as rest.hpp:
// append_json encodes, parse_… validates and never throws; unknown members are ignored.
#include <chat/proto/error.hpp>
#include <chat/proto/json.hpp>
#include <chat/proto/message.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace chat::proto {

// Active (not yet done, not cancelled) schedules one user may have, over all rooms; one more:
// 409 schedule_limit.
inline constexpr std::int64_t max_active_schedules_per_user = 100;
// How far in the past a sendAt may lie (a client's clock, a request in flight): such a schedule
// is sent at once. Further back: 400.
inline constexpr std::int64_t schedule_past_grace_ms = 30'000;
// How far ahead a sendAt may lie: 366 days.
inline constexpr std::int64_t max_schedule_ahead_ms = 366LL * 24 * 3600 * 1000;

// "repeat": absent or null = once.
enum class schedule_repeat : std::uint8_t { once, daily, weekly, monthly };

// "daily", "weekly", "monthly"; once: "" (the JSON has null).
std::string_view to_string(schedule_repeat repeat) noexcept;
// "daily" | "weekly" | "monthly" (exact case); anything else: nullopt.
std::optional<schedule_repeat> parse_schedule_repeat(std::string_view text) noexcept;

// POST /api/rooms/{id}/scheduled: {"content":"…","sendAt":"2026-11-21T12:00:00.000Z","repeat":"daily"}
struct schedule_request {
  std::string content;
  std::int64_t send_at_ms = 0;
  schedule_repeat repeat = schedule_repeat::once;

  friend bool operator==(const schedule_request&, const schedule_request&) = default;
};

// content: a TEXT message's content (1 to `max_content_code_points` code points, not blank, no
// NUL); sendAt: an RFC 3339 timestamp (any offset; kept as UTC milliseconds); repeat: absent,
// null or one of the three names.
validation_error parse_schedule_request(std::string_view json, schedule_request& out,
                                        std::size_t max_content_code_points = default_max_content_code_points);
void append_json(const schedule_request& request, std::string& out);

// Whether `send_at_ms` may be scheduled at `now_ms`: not more than schedule_past_grace_ms in the
// past, not more than max_schedule_ahead_ms ahead (errc::out_of_range, field "sendAt").
validation_error check_schedule_time(std::int64_t send_at_ms, std::int64_t now_ms);

// A schedule as the routes answer it:
//   {"id":…,"roomId":…,"authorId":…,"content":"…","repeat":"daily"|null,
//    "sendAt":"…","firstSendAt":"…","createdAt":"…"}
// sendAt: the occurrence due next; firstSendAt: the sendAt it was created with (a series'
// anchor: a monthly series of the 31st is sent on the last day of shorter months).
struct scheduled_message {
  std::int64_t id = 0;
  std::int64_t room_id = 0;
  std::int64_t author_id = 0;
  std::string content;
  schedule_repeat repeat = schedule_repeat::once;
  std::int64_t send_at_ms = 0;
  std::int64_t first_send_at_ms = 0;
  std::int64_t created_at_ms = 0;

  friend bool operator==(const scheduled_message&, const scheduled_message&) = default;
};

void append_json(const scheduled_message& value, std::string& out);
void append_json(std::span<const scheduled_message> values, std::string& out);
validation_error parse_scheduled_message(std::string_view json, scheduled_message& out);
validation_error parse_scheduled_message_list(std::string_view json, std::vector<scheduled_message>& out);

}  // namespace chat::proto
