#pragma once
// The arithmetic of scheduled messages (docs/rest.md "Scheduled messages"), pure and clock-free:
// a series' occurrences, which one a due schedule sends, and the messageKey of an occurrence.
//
// A series is anchored at its first occurrence (the sendAt it was created with). Occurrence n is
// the anchor plus n days (daily), n weeks (weekly) or n calendar months (monthly), in UTC; a
// monthly series keeps the anchor's time of day and day of month, clamped to the month's last
// day (anchored on Jan 31: Feb 28 or 29, Mar 31, Apr 30, …).
#include <chat/proto/scheduled.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace chat::chatd::scheduler {

// Occurrence `n` (>= 0; 0 is the anchor) of the series `repeat` anchored at `first_ms`. `once` has
// only occurrence 0.
std::int64_t nth_occurrence(std::int64_t first_ms, proto::schedule_repeat repeat, std::int64_t n);

// The index of the newest occurrence at or before `t_ms`; -1 when `t_ms` is before the anchor.
// `once`: 0 from the anchor on.
std::int64_t occurrence_index_at(std::int64_t first_ms, proto::schedule_repeat repeat, std::int64_t t_ms);

// The first occurrence strictly after `after_ms`; nullopt for `once` past its only occurrence.
std::optional<std::int64_t> next_occurrence_after(std::int64_t first_ms, proto::schedule_repeat repeat,
                                                  std::int64_t after_ms);

// What a due schedule sends now.
struct occurrence_plan {
  std::int64_t occurrence_ms = 0;          // the occurrence sent: its messageKey and scheduledFor
  std::optional<std::int64_t> next_at_ms;  // once it is sent; none: the schedule is done
  std::int64_t skipped = 0;                // older missed occurrences that are not sent
  bool late = false;                       // sent with scheduledFor
};

// The schedule due at `next_at_ms` (<= `now_ms`) of the series (`first_ms`, `repeat`), created at
// `created_at_ms`. A repeating schedule that missed several occurrences (every scheduler node was
// down) sends only the newest of them and skips the older ones; the next one is then the first
// after `now_ms`. An occurrence is late when it goes out more than `late_after_ms` after it was
// due (or after the schedule was created, for a sendAt already past then).
occurrence_plan plan_occurrence(std::int64_t first_ms, proto::schedule_repeat repeat, std::int64_t next_at_ms,
                                std::int64_t created_at_ms, std::int64_t now_ms, std::int64_t late_after_ms);

// The lateness threshold for a scheduler ticking every `tick`: max(5 s, 3 ticks).
std::chrono::milliseconds late_after(std::chrono::milliseconds tick);

// The messageKey of occurrence `occurrence_ms` of schedule `schedule_id`: the same whichever node
// sends it and however often, so the store keeps it once and live delivery shows it once. A UUID
// of version 8 (RFC 9562, custom) that reads back as "sched-<id>-<occurrence>":
//   tttttttt-tttt-85cd-Vsss-ssssssssssss
// t: the occurrence in Unix ms (48 bits), 8: the version, 5cd: this use, V: the variant (10) and
// the top 2 of the 62 bits s of the schedule id. Never equal to a random (version 4) key.
std::string occurrence_message_key(std::int64_t schedule_id, std::int64_t occurrence_ms);

// The inverse, for logs and tests: {schedule id, occurrence ms}, or nullopt for any other UUID.
struct occurrence_ref {
  std::int64_t schedule_id = 0;
  std::int64_t occurrence_ms = 0;
  friend bool operator==(const occurrence_ref&, const occurrence_ref&) = default;
};
std::optional<occurrence_ref> parse_occurrence_message_key(std::string_view key);

}  // namespace chat::chatd::scheduler
