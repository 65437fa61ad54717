#pragma once
// Blocks of chatd's REST API (SPEC §15, docs/rest.md "Blocks") over a rest_client. Blocking,
// like the client.
//
//   if (chat::client::set_block(api, 7, true).ok()) { /* user 7 is blocked (204) */ }
//   auto blocked = chat::client::blocks(api);  // [{userId, nickname, blockedAt}], newest first
#include <chat/client/rest_client.hpp>
#include <chat/proto/blocks.hpp>

#include <cstdint>
#include <vector>

namespace chat::client {

// PUT (block) / DELETE (unblock) /api/blocks/{userId}: 204, both idempotent. Refusals: 400 (self,
// bad id), 404 (PUT: no such user), 409 block_limit (PUT: proto::max_blocks_per_user reached).
response set_block(rest_client& api, std::int64_t user_id, bool block);
// GET /api/blocks: the users the caller blocks, newest block first.
result<std::vector<proto::blocked_user>> blocks(rest_client& api);

}  // namespace chat::client
