#pragma once
// Events for one user's sessions on every node, published on the Redis channel
// chat:user:{userId} (proto events.hpp; docs/topics.md): the room membership changes that the
// room feed turns into /user/queue/rooms and GET /api/rooms/stream events. Called by the REST
// paths that add or remove members, after their transaction committed, on a db_pool worker.
#include "redis/redis_client.hpp"

#include <cstdint>
#include <vector>

namespace chat::store {

// {"event":"room.added"|"room.removed","roomId":…} to each user's channel, in one round trip.
// Best effort: false when Redis did not take them (the users' feeds show the change at their
// next load).
bool publish_room_membership(redis::client& redis, const std::vector<std::int64_t>& user_ids, std::int64_t room_id,
                             bool added);

}  // namespace chat::store
