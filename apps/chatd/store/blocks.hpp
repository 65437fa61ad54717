#pragma once
// Blocks (SPEC §15, docs/rest.md "Blocks"): who blocks whom, in user_blocks. Per-user state that
// no one else sees: written here directly, no Kafka. After a change commits, every node hears it
// on Redis (chat:blocks) and updates its sessions of both users (docs/stomp.md "Blocks").
// Runs on db_pool workers only (blocking PostgreSQL and Redis).
//
// Where blocks are enforced besides these routes:
// - DIRECT rooms: store::open_direct_room refuses a blocked pair; store::load_target_context
//   (chatd::target_context::blocked) and the gateway's membership answers carry the pair's state
//   for chatd::check_room_event and the STOMP session.
// - History: the CHAT_SQL_NOT_BLOCKED filter (sql_util.hpp) in every history-item query.
// - Friend requests: store::create_friend_request and the accept of store::answer_friend_request
//   check the pair (detail::blocked_pair_in, sql_util.hpp) in their transactions: 403 `blocked`.
#include "redis/redis_client.hpp"
#include "store/error.hpp"
#include "store/session.hpp"

#include <chat/proto/blocks.hpp>

#include <cstddef>
#include <cstdint>
#include <vector>

namespace chat::store {

enum class block_outcome {
  blocked,          // stored now
  already_blocked,  // stored before: nothing changed
  no_such_user,     // the user to block does not exist
  limit_reached,    // the blocker blocks proto::max_blocks_per_user users already
};

// `blocker` blocks `blocked` (precondition: different ids). The blocker's user row is locked
// while the count is checked, so racing PUTs stay within the limit.
result<block_outcome> block_user(session& db, std::int64_t blocker, std::int64_t blocked);
// Lifts the block; true when there was one.
result<bool> unblock_user(session& db, std::int64_t blocker, std::int64_t blocked);
// GET /api/blocks: the users `blocker` blocks, newest block first (at most max_blocks_per_user).
result<std::vector<proto::blocked_user>> list_blocks(session& db, std::int64_t blocker);
// The ids `blocker` blocks, ascending, at most `limit` (a STOMP session's set at CONNECT).
result<std::vector<std::int64_t>> blocked_ids(session& db, std::int64_t blocker, std::size_t limit);
// Whether either of `a` and `b` blocks the other (the pair check of DIRECT rooms and friend
// requests). Two primary-key probes.
result<bool> is_blocked_pair(session& db, std::int64_t a, std::int64_t b);

// PUBLISHes `change` on chat:blocks (proto/blocks.hpp). Best effort: false (with
// redis.last_error()) when Redis cannot be reached; live sessions then learn the change at their
// next CONNECT (and their DIRECT-room gate within the membership cache's lifetime).
bool publish_block_change(redis::client& redis, const proto::block_change& change);

}  // namespace chat::store
