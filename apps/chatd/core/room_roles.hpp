#pragma once
// Who may administer a room (SPEC §16, docs/rest.md "Room administration"), as pure functions of
// the roles the store holds: the REST routes load the room, the actor's and the target's roles in
// one transaction (store/room_admin.hpp) and ask these before changing anything.
//
//   action                         who                      on whom
//   PATCH /api/rooms/{id}          OWNER, ADMIN             -
//   PUT …/members/{u}/role         OWNER                    any other member (role OWNER: a transfer)
//   DELETE …/members/{u}           OWNER, ADMIN             OWNER: any other member; ADMIN: a MEMBER
//   DELETE /api/rooms/{id}         OWNER                    -
//
// A DIRECT room has no roles to administer: both members act as its admins for deleting
// messages and pinning (event_rules.hpp), and every action above is refused (400).
#include "core/event_rules.hpp"

#include <chat/proto/message.hpp>

#include <cstdint>
#include <optional>
#include <span>

namespace chat::chatd {

enum class admin_action { update_room, set_role, remove_member, delete_room };

// What the store knows when an administration request arrives (the caller checked before that
// the room exists, 404, and the actor is a member, 403 forbidden).
struct admin_context {
  bool direct_room = false;
  proto::room_role actor = proto::room_role::member;
  // set_role, remove_member: the target member's role; nullopt when the target is no member.
  std::optional<proto::room_role> target;
  bool target_is_actor = false;
};

// nullopt = allowed. In this order: a DIRECT room (400 validation_error), the actor's right
// (403 not_allowed), the target being the actor (400 validation_error: leave, or transfer the
// ownership first) or no member (404 not_found), an ADMIN removing another admin or the owner
// (403 not_allowed).
inline std::optional<event_refusal> check_admin_action(admin_action action, const admin_context& ctx) {
  using proto::room_role;
  const bool needs_target = action == admin_action::set_role || action == admin_action::remove_member;
  if (ctx.direct_room) {
    switch (action) {
      case admin_action::update_room:
        return event_refusal{400, "validation_error", "a direct room has no name or notice to change"};
      case admin_action::set_role: return event_refusal{400, "validation_error", "a direct room has no roles"};
      case admin_action::remove_member:
        return event_refusal{400, "validation_error", "nobody can be removed from a direct room"};
      case admin_action::delete_room: return event_refusal{400, "validation_error", "a direct room cannot be deleted"};
    }
  }
  switch (action) {
    case admin_action::update_room:
    case admin_action::remove_member:
      if (!proto::is_admin_role(ctx.actor)) {
        return event_refusal{403, "not_allowed", "only the room's owner or an admin may do this"};
      }
      break;
    case admin_action::set_role:
    case admin_action::delete_room:
      if (ctx.actor != room_role::owner) return event_refusal{403, "not_allowed", "only the room's owner may do this"};
      break;
  }
  if (!needs_target) return std::nullopt;
  if (ctx.target_is_actor) {
    return action == admin_action::set_role
               ? event_refusal{400, "validation_error",
                               "the owner's own role changes by handing the ownership to another member"}
               : event_refusal{400, "validation_error", "to leave a room, DELETE /api/rooms/{id}/members/me"};
  }
  if (!ctx.target) return event_refusal{404, "not_found", "no such member in this room"};
  if (action == admin_action::remove_member && ctx.actor == room_role::admin && *ctx.target != room_role::member) {
    return event_refusal{403, "not_allowed", "an admin may remove members only, not the owner or another admin"};
  }
  return std::nullopt;
}

// A member of a room in joining order (the longest-standing first), for the hand-on below.
struct member_standing {
  std::int64_t user_id = 0;
  proto::room_role role = proto::room_role::member;
};

// Who becomes the owner when `leaving` (the owner) leaves: the longest-standing ADMIN, else the
// longest-standing MEMBER; nullopt when nobody else is left (the room is then deleted).
// `members` in joining order; `leaving` may be among them.
inline std::optional<std::int64_t> ownership_successor(std::span<const member_standing> members, std::int64_t leaving) {
  std::optional<std::int64_t> first_member;
  for (const auto& m : members) {
    if (m.user_id == leaving) continue;
    if (m.role == proto::room_role::admin) return m.user_id;
    if (!first_member) first_member = m.user_id;
  }
  return first_member;
}

}  // namespace chat::chatd
