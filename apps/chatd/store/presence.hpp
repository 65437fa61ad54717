#pragma once
// Presence lookup for the REST API: a user is online while the key user:presence:{id}
// exists (the gateway keeps it alive, docs/stomp.md). Runs on db_pool workers (blocking Redis).
#include "redis/redis_client.hpp"
#include "store/error.hpp"

#include <cstdint>
#include <vector>

namespace chat::store {

// The subset of `user_ids` (order kept) whose presence key exists, in one round trip
// (a Lua script running EXISTS per key, so the key's type does not matter).
// errc::unavailable when Redis cannot be reached or answers with an error.
result<std::vector<std::int64_t>> online_users(redis::client& redis, const std::vector<std::int64_t>& user_ids);

}  // namespace chat::store
