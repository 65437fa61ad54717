#pragma once
// Catching up on a room (SPEC §14, docs/stomp.md "Recovery"): the room events after an id, from
// the store, once the persistence consumer has stored everything of the room's partition below
// a given offset (persistence_progress, sql/0004). Runs on db_pool workers only; one statement,
// so the progress and the rows come from one snapshot. Never waits: the caller polls (timers).
#include "store/error.hpp"
#include "store/session.hpp"

#include <chat/proto/message.hpp>

#include <cstdint>
#include <vector>

namespace chat::store {

struct recovery_rows {
  // persistence_progress of the partition reached `stored_through`: `events` holds what the
  // caller asked for. Otherwise `events` is empty and the caller asks again later.
  bool ready = false;
  std::int64_t progress = 0;  // the partition's next_offset as stored (0: none yet)
  // The room's events with id > after_id, oldest first: its messages (without those `user_id`
  // hid for themselves) and its other room events (room_events, applied or not: both were
  // delivered live). At most `limit`, the newest ones.
  std::vector<proto::chat_message> events;
  bool truncated = false;  // more than `limit` events followed after_id: the oldest are left out
};

// The events of `room_id` after `after_id` as above, when persistence_progress of chat.messages'
// `partition` is at least `stored_through` (0: whatever the store has now). A message is read as
// it is stored: an edited one has its latest content; a deleted one is the tombstone with its
// state (proto::chat_message::state, deleted = true), so no content its sender deleted comes back.
// Other events are exactly what was published. `limit` >= 1.
result<recovery_rows> load_recovery(session& db, std::int64_t room_id, std::int64_t user_id, std::int64_t after_id,
                                    std::int32_t partition, std::int64_t stored_through, int limit);

}  // namespace chat::store
