#pragma once
// Scheduled messages (SPEC §16, docs/rest.md "Scheduled messages"): the rows of
// scheduled_messages (sql/0009). The routes create, list and cancel them on db_pool workers; the
// scheduler (scheduler/scheduler.hpp) claims the due ones on a connection of its own and, in the
// transaction that holds their row locks, records what became of each.
#include "store/error.hpp"
#include "store/session.hpp"

#include <chat/proto/scheduled.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace chat::store {

struct schedule_created {
  enum class status {
    created,
    no_such_room,   // 404
    not_a_member,   // 403
    blocked,        // 403: a DIRECT room of a blocked pair
    limit_reached,  // 409: proto::max_active_schedules_per_user active schedules already
  };
  status st = status::created;
  proto::scheduled_message schedule;  // created only
};

// A new active schedule of `author` in `room_id`, next_at = first_at = request.send_at_ms. The
// author's user row is locked while the active schedules are counted, so racing POSTs stay within
// the limit.
result<schedule_created> create_schedule(session& db, std::int64_t room_id, std::int64_t author,
                                         const proto::schedule_request& request);

struct schedule_list {
  enum class status { found, no_such_room, not_a_member };
  status st = status::found;
  std::vector<proto::scheduled_message> schedules;  // the caller's active ones in the room, next due first
};

result<schedule_list> list_schedules(session& db, std::int64_t room_id, std::int64_t caller);

enum class schedule_cancel_outcome {
  cancelled,
  no_such_room,  // 404
  not_a_member,  // 403
  not_found,     // 404: no active schedule of that id in this room (done, cancelled, another room's)
  not_author,    // 403: another member's schedule
  busy,          // 409: a scheduler held the row longer than cancel_lock_timeout (sending it now)
};

// How long a cancel waits for a scheduler that holds the schedule's row.
inline constexpr std::chrono::milliseconds cancel_lock_timeout{2000};

// Cancels (status cancelled, reason deleted) the active schedule `schedule_id` of `caller` in
// `room_id`. The row is locked first: a scheduler sending it now finishes first (and its occurrence
// is sent), or finds it cancelled.
result<schedule_cancel_outcome> cancel_schedule(session& db, std::int64_t room_id, std::int64_t caller,
                                                std::int64_t schedule_id);

// An active schedule whose next occurrence is due, as the scheduler sees it while it holds the row.
struct due_schedule {
  std::int64_t id = 0;
  std::int64_t room_id = 0;
  std::int64_t author_id = 0;
  std::string author_nickname;
  std::string content;
  proto::schedule_repeat repeat = proto::schedule_repeat::once;
  std::int64_t first_at_ms = 0;
  std::int64_t next_at_ms = 0;
  std::int64_t created_at_ms = 0;
  bool author_is_member = false;
  bool blocked = false;  // a DIRECT room whose two members are a blocked pair now
};

// Why the scheduler cancelled a schedule (the column cancel_reason).
enum class schedule_cancel_reason { not_member, blocked };

// Due schedules claimed in one open transaction: their rows stay locked (FOR UPDATE) until
// commit() or the claim's destruction (rollback), so no other node claims them meanwhile (SKIP
// LOCKED) and a node that dies holding them releases them with its connection. What becomes of
// each is recorded with sent() / cancelled() and written by commit(). Used by one thread.
class due_claim {
 public:
  virtual ~due_claim() = default;

  virtual std::span<const due_schedule> schedules() const = 0;
  // The occurrence `occurrence_ms` of schedule `id` was acknowledged by Kafka: next_at becomes
  // `next_at_ms` (none: the schedule is done).
  virtual void sent(std::int64_t id, std::int64_t occurrence_ms, std::optional<std::int64_t> next_at_ms) = 0;
  virtual void cancelled(std::int64_t id, schedule_cancel_reason reason) = 0;
  // Writes what was recorded and commits. After an error the outcome is unknown (the
  // connection may be broken): the schedules not advanced are claimed again later.
  virtual result<void> commit() = 0;
};

// Claims at most `limit` active schedules with next_at <= `now_ms`, oldest due first, skipping
// rows another transaction holds. No due schedule: an empty claim (commit() is then free).
result<std::unique_ptr<due_claim>> claim_due_schedules(session& db, std::int64_t now_ms, int limit);

}  // namespace chat::store
