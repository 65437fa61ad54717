#pragma once
// Read state of a member: unread count and last-read message id. PostgreSQL
// (chat_room_members) is the truth; Redis `unread:{room}:{user}` caches it. The
// read-receipts consumer (pipeline/) writes both; the REST API reads the cache and, on a
// miss, the database, re-populating the cache.
//
// Cache value: the JSON object {"unreadCount":N,"lastReadMessageId":M} (encode_unread /
// decode_unread are the one definition of that format).
#include "redis/redis_client.hpp"
#include "store/rooms.hpp"

#include <chat/proto/rest.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace chat::store {

struct unread_state {
  std::int64_t unread_count = 0;
  std::int64_t last_read_message_id = 0;

  friend bool operator==(const unread_state&, const unread_state&) = default;
};

std::string encode_unread(const unread_state& state);
// nullopt for anything but an object with two non-negative integers (a foreign or corrupt
// value is then treated as a cache miss).
std::optional<unread_state> decode_unread(std::string_view value) noexcept;

struct unread_lookup {
  room_access access = room_access::granted;
  unread_state state;  // granted
};

// From chat_room_members; access as in rooms.hpp.
result<unread_lookup> unread_from_db(session& db, std::int64_t room_id, std::int64_t user_id);

// GET /api/rooms/{id}/reads: every member's last-read message id (0: nothing read), by user id;
// access as in rooms.hpp. One statement.
struct reads_lookup {
  room_access access = room_access::granted;
  std::vector<proto::member_read> reads;  // granted
};
result<reads_lookup> member_reads(session& db, std::int64_t room_id, std::int64_t caller);

// The cached value, or nullopt on a miss, an unreadable value or Redis being down.
std::optional<unread_state> unread_from_cache(redis::client& redis, std::int64_t room_id, std::int64_t user_id);

// SET unread:{room}:{user} … EX ttl NX: never overwrites what the consumer wrote meanwhile.
// Best effort: false when Redis is down or the key exists.
bool fill_unread_cache(redis::client& redis, std::int64_t room_id, std::int64_t user_id, const unread_state& state,
                       std::chrono::seconds ttl);

// DEL unread:{room}:{user} (after leaving a room). Best effort.
void drop_unread_cache(redis::client& redis, std::int64_t room_id, std::int64_t user_id);

}  // namespace chat::store
