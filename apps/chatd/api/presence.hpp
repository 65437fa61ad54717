#pragma once
// Who of a room's members is online: a user is online while the key user:presence:{id}
// exists (the gateway keeps it alive, SPEC §4). Runs on db_pool workers (blocking Redis).
#include "redis/redis_client.hpp"

#include <cstdint>
#include <optional>
#include <vector>

namespace chat::chatd::api {

// The subset of `user_ids` (order kept) whose presence key exists, in one round trip
// (a Lua script running EXISTS per key, so the key's type does not matter).
// nullopt when Redis cannot be reached or answers with an error.
std::optional<std::vector<std::int64_t>> online_users(redis::client& redis, const std::vector<std::int64_t>& user_ids);

}  // namespace chat::chatd::api
