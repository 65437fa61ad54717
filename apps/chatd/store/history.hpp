#pragma once
// Message history: keyset pagination over message ids (docs/events.md), newest first, using the
// messages(room_id, id DESC) index. Runs on db_pool workers only. The other history-item
// lookups (one message, a thread, pins, bookmarks) are in store/lifecycle.hpp.
#include "store/rooms.hpp"

#include <chat/proto/message.hpp>

#include <cstdint>
#include <limits>
#include <vector>

namespace chat::store {

struct history_page {
  room_access access = room_access::granted;
  std::vector<proto::chat_message> messages;  // newest first, at most `size`
  bool has_more = false;                      // older messages exist below the last one
};

// Messages of `room_id` with id < `before`, newest first, as history items (SPEC §13: their
// current state, the caller's own reactions marked `me`), without those the caller hid nor those
// of users the caller blocks (SYSTEM notices stay). Fetches size+1 rows to learn
// whether there is more (no COUNT). Membership is checked in the same statement; only an
// empty answer costs a second query (to tell 404 from 403).
result<history_page> load_history(session& db, std::int64_t room_id, std::int64_t caller,
                                  std::int64_t before = std::numeric_limits<std::int64_t>::max(), int size = 20);

}  // namespace chat::store
