#pragma once
// People of chatd's REST API (SPEC §15, docs/rest.md "Profiles", "Search", "Friends") over a
// rest_client: profiles, the user search, friend requests and friends. Blocking, like the
// client.
//
//   auto found = chat::client::search_users(api, "ann", 10);
//   if (found && !found.value->empty()) chat::client::send_friend_request(api, found.value->front().id);
//   auto incoming = chat::client::friend_requests(api, true);
#include <chat/client/rest_client.hpp>
#include <chat/proto/people.hpp>

#include <cstdint>
#include <string_view>
#include <vector>

namespace chat::client {

// PATCH /api/users/me: the caller as GET /api/users/me shows them after the change.
result<proto::user> update_profile(rest_client& api, const proto::profile_update& update);
// GET /api/users/{id}: {id, nickname, statusMessage, avatarUrl, online, lastSeenAt}.
result<proto::profile> user_profile(rest_client& api, std::int64_t user_id);
// GET /api/users/search?q=&limit=: users whose nickname or email starts with q (not the caller).
result<std::vector<proto::profile>> search_users(rest_client& api, std::string_view q, int limit);

// POST /api/friends/requests {userId}: 201 the pending request.
result<proto::friend_request> send_friend_request(rest_client& api, std::int64_t user_id);
// GET /api/friends/requests?direction=incoming|outgoing
result<std::vector<proto::friend_request>> friend_requests(rest_client& api, bool incoming);
// POST /api/friends/requests/{id}/accept or …/reject: the request with its new status.
result<proto::friend_request> answer_friend_request(rest_client& api, std::int64_t request_id, bool accept);
// DELETE /api/friends/requests/{id}: 204 (the sender cancels).
response cancel_friend_request(rest_client& api, std::int64_t request_id);
// GET /api/friends
result<std::vector<proto::profile>> friends(rest_client& api);
// DELETE /api/friends/{userId}: 204.
response remove_friend(rest_client& api, std::int64_t user_id);

}  // namespace chat::client
