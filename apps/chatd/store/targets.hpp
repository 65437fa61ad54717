#pragma once
// What a room event needs to know before it is published (SPEC §13): the actor's membership and
// admin rights, the room's pin count and the target message, in one query; and the message a
// forward copies. Shared by the REST API and the STOMP gateway; runs on db_pool workers only.
#include "core/event_rules.hpp"
#include "core/recent_messages.hpp"
#include "store/error.hpp"
#include "store/session.hpp"

#include <chat/proto/message.hpp>

#include <chrono>
#include <cstdint>
#include <optional>

namespace chat::store {

// The context of an event by `user_id` in `room_id` on message `target_id` (0: none, e.g. a
// plain message). A target of another room is reported as absent.
//
// A message is in the store only once the persistence consumer wrote it, which can be a little
// after its sender saw it live. When the target is absent but may simply not be stored yet (its
// id is above the room's newest stored id), `recent` (what this node saw acknowledged or live,
// core/recent_messages.hpp) answers for it. When neither has it — an id the client got from a
// RECEIPT on another node, before this node saw the message live — the query is repeated every
// 20 ms for up to `wait_for_pending` (blocking the db_pool worker; only such ids wait):
// room events pass pending_target_wait, delete-for-me (which writes a row pointing at the stored
// message, so `recent` cannot answer) pending_row_wait.
inline constexpr std::chrono::milliseconds pending_target_wait{250};
inline constexpr std::chrono::milliseconds pending_row_wait{500};
result<chatd::target_context> load_target_context(
    session& db, std::int64_t room_id, std::int64_t user_id, std::int64_t target_id,
    const chatd::recent_messages* recent,
    std::chrono::milliseconds wait_for_pending = std::chrono::milliseconds::zero());

// The message `message_id` of `room_id` as a forward copies it (type, content, attachment,
// sender's nickname), when `user_id` is a member of that room and the message exists, is not
// deleted and is not a SYSTEM message; nullopt otherwise (the caller answers 404 either way,
// so that a forward does not reveal another room's messages).
result<std::optional<proto::chat_message>> load_forward_source(session& db, std::int64_t room_id,
                                                               std::int64_t message_id, std::int64_t user_id);

}  // namespace chat::store
