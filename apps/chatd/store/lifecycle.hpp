#pragma once
// The message lifecycle's reads and the per-user state that does not go through Kafka (SPEC §13,
// docs/rest.md "Message lifecycle"): one history item, a thread page, a room's pins, a user's
// bookmarks; and the messageKey lookup POST /api/rooms/{id}/messages needs before publishing.
// History items carry the current state and the caller's own reactions (`me`); messages the
// caller hid (store/hidden_messages) are left out everywhere. Every read is one statement (a
// second one only to tell 404 from 403 on an empty answer). Runs on db_pool workers only.
#include "store/error.hpp"
#include "store/rooms.hpp"
#include "store/session.hpp"

#include <chat/proto/message.hpp>

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace chat::store {

// ---- GET /api/rooms/{id}/messages/{mid}
struct item_lookup {
  room_access access = room_access::granted;
  std::optional<proto::chat_message> item;  // granted: the message, unless absent or hidden for the caller
};
result<item_lookup> load_history_item(session& db, std::int64_t room_id, std::int64_t caller, std::int64_t message_id);

// ---- GET /api/rooms/{id}/messages/{mid}/thread
struct thread_page {
  room_access access = room_access::granted;
  bool found = false;                         // granted: `message_id` is a message of the room
  std::vector<proto::chat_message> messages;  // the replies, oldest first, at most `size`
  bool has_more = false;                      // newer replies exist after the last one
};
// The replies of the thread `message_id` belongs to (its own thread when it is a root, its root's
// when it is a reply) with id > `after`, oldest first, over messages(thread_root_id, id).
result<thread_page> load_thread(session& db, std::int64_t room_id, std::int64_t caller, std::int64_t message_id,
                                std::int64_t after, int size);

// ---- GET /api/rooms/{id}/pins
struct pins_outcome {
  room_access access = room_access::granted;
  std::vector<proto::chat_message> messages;  // most recently pinned first
};
result<pins_outcome> load_pins(session& db, std::int64_t room_id, std::int64_t caller);

// ---- bookmarks
struct bookmark_page {
  std::vector<proto::chat_message> items;  // newest message first (each names its room)
  bool has_more = false;
};
// The caller's bookmarks of messages with id < `before` in rooms the caller is still a member of.
result<bookmark_page> load_bookmarks(session& db, std::int64_t caller,
                                     std::int64_t before = std::numeric_limits<std::int64_t>::max(), int size = 20);
// Bookmarks `message_id` for `caller` (again: nothing changes). False when it is no message of a
// room the caller is in. A message newer than every stored one may only not be stored yet: the
// lookup is repeated every 20 ms for up to 500 ms, as store/targets does.
result<bool> add_bookmark(session& db, std::int64_t caller, std::int64_t message_id);
// Idempotent.
result<void> remove_bookmark(session& db, std::int64_t caller, std::int64_t message_id);

// ---- POST /api/rooms/{id}/messages
struct keyed_message {
  std::int64_t id = 0;
  std::int64_t room_id = 0;
  std::int64_t sender_id = 0;
};
// The stored message with this messageKey (a UUID, lower case), if any.
result<std::optional<keyed_message>> find_message_by_key(session& db, std::string_view message_key);

}  // namespace chat::store
