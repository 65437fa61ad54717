#pragma once
// Delete-for-me (docs/rest.md DELETE …/messages/{mid}?for=me, docs/stomp.md /app/chat.delete with
// forMe): the message stays in the room for everyone else; this user's history leaves it out
// (message_hidden) and their sessions on every node are told live (Redis chat:user:{id},
// delivered on /user/queue/notifications). Nothing goes through Kafka: no one else sees it.
// Runs on db_pool workers only (blocking PostgreSQL and Redis).
//
// The caller checks first that the user is a member of the room and that the message is one
// of its messages (store::load_target_context), as for any room action.
#include "redis/redis_client.hpp"
#include "store/error.hpp"
#include "store/session.hpp"

#include <cstdint>

namespace chat::store {

// Hides `message_id` of `room_id` from `user_id`. Idempotent: true when it was hidden now,
// false when it was hidden already (or the message no longer exists).
result<bool> hide_message(session& db, std::int64_t user_id, std::int64_t room_id, std::int64_t message_id);

// PUBLISHes {"event":"message.hidden","roomId":…,"messageId":…} on chat:user:{user_id}: every
// node delivers it to the user's /user/queue/notifications subscribers. Best effort: false
// (with redis.last_error()) when Redis cannot be reached; the message stays hidden in history.
bool publish_message_hidden(redis::client& redis, std::int64_t user_id, std::int64_t room_id, std::int64_t message_id);

}  // namespace chat::store
