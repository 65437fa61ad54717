// Room roles (SPEC §16): who may administer a room (core/room_roles.hpp), who may pin and delete
// others' messages (core/event_rules.hpp, by role), and who owns a room after its owner left.
#include "core/event_rules.hpp"
#include "core/room_roles.hpp"

#include <gtest/gtest.h>

#include <optional>
#include <string_view>
#include <vector>

namespace chat::chatd {
namespace {

using proto::room_role;

constexpr std::int64_t me = 1;
constexpr std::int64_t other = 2;

// The code of a refusal, "" when allowed.
std::string_view code_of(const std::optional<event_refusal>& refusal) { return refusal ? refusal->code : ""; }
int status_of(const std::optional<event_refusal>& refusal) { return refusal ? refusal->status : 0; }

admin_context group(room_role actor, std::optional<room_role> target = std::nullopt, bool self = false) {
  return admin_context{false, actor, target, self};
}

TEST(RoomRoles, RenameAndNoticeByOwnerAndAdmins) {
  EXPECT_EQ(code_of(check_admin_action(admin_action::update_room, group(room_role::owner))), "");
  EXPECT_EQ(code_of(check_admin_action(admin_action::update_room, group(room_role::admin))), "");
  const auto member = check_admin_action(admin_action::update_room, group(room_role::member));
  EXPECT_EQ(code_of(member), "not_allowed");
  EXPECT_EQ(status_of(member), 403);
}

TEST(RoomRoles, RolesAndDeletionByTheOwnerOnly) {
  for (const auto action : {admin_action::set_role, admin_action::delete_room}) {
    const auto target = action == admin_action::set_role ? std::optional(room_role::member) : std::nullopt;
    EXPECT_EQ(code_of(check_admin_action(action, group(room_role::owner, target))), "");
    EXPECT_EQ(code_of(check_admin_action(action, group(room_role::admin, target))), "not_allowed");
    EXPECT_EQ(code_of(check_admin_action(action, group(room_role::member, target))), "not_allowed");
  }
  // The owner's own role moves only by a transfer to someone else.
  const auto self = check_admin_action(admin_action::set_role, group(room_role::owner, room_role::owner, true));
  EXPECT_EQ(status_of(self), 400);
  // A target who is no member: 404, but only for someone who may ask (no probing by members).
  EXPECT_EQ(status_of(check_admin_action(admin_action::set_role, group(room_role::owner))), 404);
  EXPECT_EQ(status_of(check_admin_action(admin_action::set_role, group(room_role::member))), 403);
}

TEST(RoomRoles, RemovingMembers) {
  // The owner removes anyone else; an admin removes members only.
  for (const auto target : {room_role::admin, room_role::member}) {
    EXPECT_EQ(code_of(check_admin_action(admin_action::remove_member, group(room_role::owner, target))), "");
  }
  EXPECT_EQ(code_of(check_admin_action(admin_action::remove_member, group(room_role::admin, room_role::member))), "");
  EXPECT_EQ(code_of(check_admin_action(admin_action::remove_member, group(room_role::admin, room_role::admin))),
            "not_allowed");
  EXPECT_EQ(code_of(check_admin_action(admin_action::remove_member, group(room_role::admin, room_role::owner))),
            "not_allowed");
  EXPECT_EQ(code_of(check_admin_action(admin_action::remove_member, group(room_role::member, room_role::member))),
            "not_allowed");
  // Removing oneself is leaving (its own route); a non-member cannot be removed.
  EXPECT_EQ(status_of(check_admin_action(admin_action::remove_member, group(room_role::owner, room_role::owner, true))),
            400);
  EXPECT_EQ(status_of(check_admin_action(admin_action::remove_member, group(room_role::admin))), 404);
}

TEST(RoomRoles, ADirectRoomHasNothingToAdminister) {
  for (const auto action :
       {admin_action::update_room, admin_action::set_role, admin_action::remove_member, admin_action::delete_room}) {
    admin_context ctx{true, room_role::admin, room_role::admin, false};
    const auto refusal = check_admin_action(action, ctx);
    EXPECT_EQ(status_of(refusal), 400);
    EXPECT_EQ(code_of(refusal), "validation_error");
  }
}

TEST(RoomRoles, OwnershipGoesToTheLongestStandingAdminElseMember) {
  using standing = std::vector<member_standing>;
  // Joining order: the owner, a member, two admins.
  const standing room{{10, room_role::owner}, {11, room_role::member}, {12, room_role::admin}, {13, room_role::admin}};
  EXPECT_EQ(ownership_successor(room, 10), 12);
  const standing members_only{{10, room_role::owner}, {11, room_role::member}, {12, room_role::member}};
  EXPECT_EQ(ownership_successor(members_only, 10), 11);
  // The leaver is not among the candidates, wherever it stands.
  const standing owner_last{{11, room_role::member}, {12, room_role::member}, {10, room_role::owner}};
  EXPECT_EQ(ownership_successor(owner_last, 10), 11);
  const standing alone{{10, room_role::owner}};
  EXPECT_EQ(ownership_successor(alone, 10), std::nullopt);
  EXPECT_EQ(ownership_successor(standing{}, 10), std::nullopt);
}

// ---- the event rules by role (pins and deleting others' messages)

proto::chat_message event_on(proto::event_kind kind, std::int64_t sender) {
  proto::chat_message e;
  e.event = kind;
  e.room_id = 7;
  e.sender_id = sender;
  e.target_id = 100;
  return e;
}

target_context context(room_role role, bool direct = false) {
  target_context ctx;
  ctx.room_exists = true;
  ctx.member = true;
  ctx.role = role;
  ctx.direct_peer = direct ? other : 0;
  target_message t;
  t.id = 100;
  t.sender_id = other;  // someone else's message
  t.created_at_ms = 0;
  ctx.target = t;
  return ctx;
}

TEST(EventRulesByRole, PinsAndOthersMessagesNeedAnAdmin) {
  for (const auto kind : {proto::event_kind::pinned, proto::event_kind::unpinned, proto::event_kind::deleted}) {
    for (const auto role : {room_role::owner, room_role::admin}) {
      EXPECT_EQ(code_of(check_room_event(event_on(kind, me), context(role), 0)), "")
          << proto::to_string(kind) << " by " << proto::to_string(role);
    }
    EXPECT_EQ(code_of(check_room_event(event_on(kind, me), context(room_role::member), 0)), "not_allowed")
        << proto::to_string(kind);
    // Both members of a DIRECT room act as its admins, whatever role is stored for them.
    EXPECT_EQ(code_of(check_room_event(event_on(kind, me), context(room_role::member, true), 0)), "")
        << proto::to_string(kind);
  }
  // One's own message: any member deletes it.
  auto own = context(room_role::member);
  own.target->sender_id = me;
  EXPECT_EQ(code_of(check_room_event(event_on(proto::event_kind::deleted, me), own, 0)), "");
  // Outsiders: nothing, whatever role a stale context names.
  auto outsider = context(room_role::owner);
  outsider.member = false;
  EXPECT_EQ(code_of(check_room_event(event_on(proto::event_kind::pinned, me), outsider, 0)), "not_a_member");
  EXPECT_FALSE(is_room_admin(outsider));
}

TEST(EventRulesByRole, AdministrationEventsAreNeverAClientsToSend) {
  for (const auto kind :
       {proto::event_kind::room_updated, proto::event_kind::member_joined, proto::event_kind::member_left,
        proto::event_kind::member_removed, proto::event_kind::member_role, proto::event_kind::room_deleted}) {
    EXPECT_EQ(code_of(check_room_event(event_on(kind, me), context(room_role::owner), 0)), "validation_error")
        << proto::to_string(kind);
  }
}

}  // namespace
}  // namespace chat::chatd
