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
result<bool> room_exists(session& db, std::int64_t room_id);
// Ids of the rooms `user_id` belongs to, ascending; at most `limit` (0: all).
result<std::vector<std::int64_t>> rooms_of_user(session& db, std::int64_t user_id, std::size_t limit = 0);
// Ids of every user who shares at least one room with `user_id` (excluding them).
result<std::vector<std::int64_t>> contacts_of_user(session& db, std::int64_t user_id);
result<std::vector<std::int64_t>> members_of_room(session& db, std::int64_t room_id);
result<std::optional<std::string>> nickname_of(session& db, std::int64_t user_id);

}  // namespace chat::store
