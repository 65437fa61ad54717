#pragma once
// Membership queries shared by the REST API and the gateway. Run on db_pool workers
// only; database failures come back as store::error.
#include "store/error.hpp"
#include "store/session.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace chat::store {

result<bool> is_member(session& db, std::int64_t room_id, std::int64_t user_id);

// A room of a user as the STOMP gateway caches it (docs/stomp.md "Blocks"): a DIRECT room's other
// member and whether the two are a blocked pair (either blocks the other).
struct member_room {
  std::int64_t room_id = 0;
  std::int64_t direct_peer = 0;  // 0: a group room
  bool blocked = false;          // DIRECT only
};
// `user_id`'s membership of `room_id`: nullopt when not a member (or no such room). One statement.
result<std::optional<member_room>> membership_of(session& db, std::int64_t room_id, std::int64_t user_id);
// The rooms `user_id` belongs to, ascending; at most `limit`. One statement.
result<std::vector<member_room>> member_rooms_of_user(session& db, std::int64_t user_id, std::size_t limit);
result<bool> room_exists(session& db, std::int64_t room_id);
// Ids of the rooms `user_id` belongs to, ascending; at most `limit` (0: all).
result<std::vector<std::int64_t>> rooms_of_user(session& db, std::int64_t user_id, std::size_t limit = 0);
// Ids of every user who shares at least one room with `user_id` (excluding them).
result<std::vector<std::int64_t>> contacts_of_user(session& db, std::int64_t user_id);
result<std::vector<std::int64_t>> members_of_room(session& db, std::int64_t room_id);
result<std::optional<std::string>> nickname_of(session& db, std::int64_t user_id);

}  // namespace chat::store
