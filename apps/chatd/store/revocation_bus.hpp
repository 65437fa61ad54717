#pragma once
// Token revocations in Redis (docs/topics.md "Token revocations"): the sorted set
// chat:revoked-tokens (member: the revocation's text form, score: the Unix second from which it
// names no valid token) and the channel chat:token-revocations on which every node's
// revocation feed hears each new one at once. Blocking; worker and feed threads only.
#include "redis/redis_client.hpp"
#include "tokens/revocations.hpp"

#include <cstdint>
#include <optional>
#include <vector>

namespace chat::store {

namespace tokens = chat::chatd::tokens;

// Adds `r` to the set and publishes it, atomically (one script). False when Redis could not
// be reached (PostgreSQL holds it anyway; nodes whose feed is cut off read it from there).
bool publish_revocation(redis::client& redis, const tokens::revocation& r);

// Every revocation in the set that still matters at `now_s` (the expired ones are removed
// first); nullopt when Redis could not be asked. Members that do not decode are skipped.
std::optional<std::vector<tokens::revocation>> load_revocations(redis::client& redis, std::int64_t now_s);

}  // namespace chat::store
