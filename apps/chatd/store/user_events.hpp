#pragma once
// Events for one user's sessions on every node, published on the Redis channel
// chat:user:{userId} (proto events.hpp; docs/topics.md): the room membership changes that the
// room feed turns into /user/queue/rooms and GET /api/rooms/stream events. Called by the REST
// paths that add or remove members, after their transaction committed, on a db_pool worker.
#include "redis/redis_client.hpp"

#include <chat/proto/people.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace chat::store {

// `json` (a user event) to each user's channel, in one round trip. Best effort: false when
// Redis did not take it.
bool publish_user_event(redis::client& redis, const std::vector<std::int64_t>& user_ids, std::string_view json);

// {"event":"room.added"|"room.removed","roomId":…} to each user's channel, in one round trip.
// Best effort: false when Redis did not take them (the users' feeds show the change at their
// next load).
bool publish_room_membership(redis::client& redis, const std::vector<std::int64_t>& user_ids, std::int64_t room_id,
                             bool added);

// {"roomId","userIds"} on chat:membership (proto::membership_revoked): every node's sessions of
// those users forget their cached membership of the room, so their next SEND or SUBSCRIBE asks
// PostgreSQL. Best effort, as above (a session that misses it trusts its cache for at most its
// TTL, docs/stomp.md "Membership").
bool publish_membership_revoked(redis::client& redis, std::int64_t room_id, const std::vector<std::int64_t>& user_ids);

// A friend event (proto people.hpp) to both users' channels: their /user/queue/notifications
// subscribers and SSE streams on every node. Best effort, as above.
bool publish_friend_event(redis::client& redis, const proto::friend_event& event);

// {"event":"profile.updated","userId","nickname"} on chat:profile: every node's live sessions
// of the user stamp the new nickname from then on. Best effort, as above (a session that
// misses it keeps the old nickname until it reconnects).
bool publish_nickname_change(redis::client& redis, std::int64_t user_id, const std::string& nickname);

}  // namespace chat::store
