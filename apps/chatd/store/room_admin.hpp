#pragma once
// Room administration (SPEC §16, docs/rest.md "Room administration"): renaming and the notice,
// roles and ownership, removing members, deleting a room, and leaving (which hands the ownership
// on and deletes a room whose last member left). Runs on db_pool workers only.
//
// Each call is one transaction that first locks the room row -- FOR NO KEY UPDATE, or FOR UPDATE
// when the room may be deleted -- and then the room's member rows in (user) order, the order the
// persistence and read-receipts consumers lock them in; so membership changes of one room run
// one at a time, and none of them deadlocks with a consumer. The permission rules are
// core/room_roles.hpp; what the caller publishes afterwards (the room events, the room feeds'
// events, the membership revocations) is in the outcome.
#include "core/event_rules.hpp"
#include "store/error.hpp"
#include "store/rooms.hpp"
#include "store/session.hpp"

#include <chat/proto/message.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace chat::store {

// What every administration call reports before its own results.
struct admin_outcome {
  enum class status {
    done,          // changed (and committed)
    unchanged,     // allowed, but it changed nothing (the same name, the role the member has)
    no_such_room,  // 404
    not_a_member,  // 403 forbidden: the caller is not in the room
    refused,       // core/room_roles.hpp said no: `refusal`
  } st = status::done;
  chatd::event_refusal refusal;
  std::string actor_nickname;  // done: the caller's
};

// ---- PATCH /api/rooms/{id}: name and/or notice ("" clears it).
struct room_update_outcome : admin_outcome {
  std::optional<std::string> name;    // done: the new name, when it changed
  std::optional<std::string> notice;  // done: the new notice ("" = cleared), when it changed
};
result<room_update_outcome> update_room(session& db, std::int64_t room_id, std::int64_t caller,
                                        const std::optional<std::string>& name,
                                        const std::optional<std::string>& notice);

// ---- PUT /api/rooms/{id}/members/{userId}/role. OWNER moves the ownership: the target becomes
// OWNER and the caller ADMIN.
struct role_change {
  std::int64_t user_id = 0;
  std::string nickname;
  proto::room_role role = proto::room_role::member;
};
struct set_role_outcome : admin_outcome {
  std::vector<role_change> changes;  // done: in the order to announce them
};
result<set_role_outcome> set_member_role(session& db, std::int64_t room_id, std::int64_t caller, std::int64_t target,
                                         proto::room_role role);

// ---- DELETE /api/rooms/{id}/members/{userId}
struct remove_outcome : admin_outcome {
  std::string nickname;  // done: of the removed member
};
result<remove_outcome> remove_member(session& db, std::int64_t room_id, std::int64_t caller, std::int64_t target);

// ---- DELETE /api/rooms/{id}: the room row goes, with everything of the room (ON DELETE CASCADE);
// its id is kept in deleted_rooms (sql/0008).
struct delete_outcome : admin_outcome {
  std::vector<std::int64_t> members;  // done: who was in it
};
result<delete_outcome> delete_room(session& db, std::int64_t room_id, std::int64_t caller);

// ---- DELETE /api/rooms/{id}/members/me
struct leave_outcome {
  enum class status { left, no_such_room, not_a_member, direct_room } st = status::left;
  std::string nickname;  // left: of the leaving user
  // left: the leaving owner's successor (core/room_roles.hpp ownership_successor).
  std::optional<role_change> new_owner;
  // left: the caller was the last member; the room was deleted as by delete_room.
  bool room_deleted = false;
};
result<leave_outcome> leave_room(session& db, std::int64_t room_id, std::int64_t caller);

}  // namespace chat::store
