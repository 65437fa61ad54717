#pragma once
// Rooms repository: direct and group rooms, the caller's room list, room detail and
// invitations (leaving and the administration of a room: store/room_admin.hpp). Runs on db_pool workers only; database
// failures come back as store::error (the REST layer maps them). Every function checks access itself, in the same round
// trip as the data where it can, and reports it as a room_access value.
#include "store/error.hpp"
#include "store/session.hpp"

#include <chat/proto/message.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace chat::store {

enum class room_type { direct, group };
std::string_view to_string(room_type type) noexcept;  // "DIRECT" / "GROUP"

// How the caller relates to a room.
enum class room_access {
  granted,       // the room exists and the caller is a member
  no_such_room,  // 404
  not_a_member,  // 403
};

struct room_member {
  std::int64_t user_id = 0;
  std::string nickname;
  // SPEC §16: OWNER / ADMIN / MEMBER in a GROUP room; ADMIN for both members of a DIRECT room
  // (they act as its admins: core/event_rules.hpp).
  proto::room_role role = proto::room_role::member;
};

struct room_detail {
  std::int64_t id = 0;
  room_type type = room_type::group;
  std::optional<std::string> name;  // null for DIRECT rooms
  std::int64_t created_by = 0;
  std::int64_t created_at_ms = 0;
  std::optional<std::string> notice;  // null: none
  std::vector<std::int64_t> pinned;   // pinned message ids, most recently pinned first
  std::vector<room_member> members;   // in joining order
};

// One entry of GET /api/rooms.
struct room_summary {
  std::int64_t id = 0;
  room_type type = room_type::group;
  std::optional<std::string> name;
  std::int64_t member_count = 0;
  std::int64_t unread_count = 0;  // the caller's
  std::optional<proto::chat_message> last_message;
};

// Whether `user_id` may act on `room_id`, in one round trip.
result<room_access> access_of(session& db, std::int64_t room_id, std::int64_t user_id);

// ---- POST /api/rooms/direct
struct direct_room_outcome {
  enum class status { created, existing, no_such_caller, no_such_target, blocked } st = status::created;
  room_detail room;  // created / existing
};

// The DIRECT room of the pair (caller, target), created when missing; `blocked` (nothing created
// nor returned) when either of the two blocks the other (SPEC §15). The UNIQUE
// (direct_low, direct_high) constraint with INSERT … ON CONFLICT DO NOTHING makes racing
// calls (A->B and B->A) end in one room. Precondition: caller != target.
result<direct_room_outcome> open_direct_room(session& db, std::int64_t caller, std::int64_t target);

// ---- POST /api/rooms/group
struct group_room_outcome {
  enum class status { created, no_such_caller, unknown_users } st = status::created;
  room_detail room;                   // created
  std::vector<std::int64_t> unknown;  // unknown_users: ids that name no user
};

// A GROUP room with the caller and `member_ids` (duplicates and the caller ignored).
result<group_room_outcome> create_group_room(session& db, std::int64_t caller, const std::string& name,
                                             const std::vector<std::int64_t>& member_ids);

// ---- GET /api/rooms: one statement for any number of rooms (member counts, the caller's
// unread count and the newest message through a LATERAL join; not one of a user the caller
// blocks). Most recent activity first.
result<std::vector<room_summary>> list_rooms(session& db, std::int64_t user_id);
// One entry of that list (the room feed's room.added, gateway/room_feed.hpp); nullopt when the
// user is not a member of `room_id` (or there is no such room).
result<std::optional<room_summary>> room_summary_of(session& db, std::int64_t user_id, std::int64_t room_id);

// ---- GET /api/rooms/{id}
struct room_detail_outcome {
  room_access access = room_access::granted;
  room_detail room;  // granted
};
result<room_detail_outcome> load_room(session& db, std::int64_t room_id, std::int64_t caller);

// ---- POST /api/rooms/{id}/members
struct add_members_outcome {
  enum class status { added, no_such_room, not_a_member, direct_room, unknown_users } st = status::added;
  std::vector<room_member> added;     // newly added (existing members are skipped)
  std::vector<std::int64_t> unknown;  // unknown_users
  room_detail room;                   // added: the room after the change
};
// New members start with last_read_message_id = the room's newest stored message, so they
// do not inherit the whole history as unread, and with the role MEMBER.
result<add_members_outcome> add_members(session& db, std::int64_t room_id, std::int64_t caller,
                                        const std::vector<std::int64_t>& user_ids);

// ---- GET /api/rooms/{id}/members/online (the member list; presence comes from Redis)
struct members_outcome {
  room_access access = room_access::granted;
  std::vector<std::int64_t> user_ids;  // granted, ascending
};
result<members_outcome> member_ids(session& db, std::int64_t room_id, std::int64_t caller);

}  // namespace chat::store
