#pragma once
// Scheduled messages of chatd's REST API (SPEC §16, docs/rest.md "Scheduled messages") over a
// rest_client. Blocking, like the client.
//
//   auto s = chat::client::schedule_message(api, room, {"stand-up in 5", at_ms, proto::schedule_repeat::daily});
//   auto mine = chat::client::scheduled_messages(api, room);  // the caller's, next due first
//   chat::client::cancel_scheduled(api, room, s.value->id);   // 204
#include <chat/client/rest_client.hpp>
#include <chat/proto/scheduled.hpp>

#include <cstdint>
#include <vector>

namespace chat::client {

// POST /api/rooms/{id}/scheduled: 201 the schedule. Refusals: 400 (content, sendAt, repeat), 403
// not_a_member / blocked, 404 room_not_found, 409 schedule_limit.
result<proto::scheduled_message> schedule_message(rest_client& api, std::int64_t room_id,
                                                  const proto::schedule_request& request);
// GET /api/rooms/{id}/scheduled: the caller's active schedules in the room, next due first.
result<std::vector<proto::scheduled_message>> scheduled_messages(rest_client& api, std::int64_t room_id);
// DELETE /api/rooms/{id}/scheduled/{sid}: 204. Refusals: 403 not_allowed (another's), 404
// schedule_not_found, 409 schedule_busy (being sent right now: retry).
response cancel_scheduled(rest_client& api, std::int64_t room_id, std::int64_t schedule_id);

}  // namespace chat::client
