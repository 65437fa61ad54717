#pragma once
// Who may send which room event (SPEC §13), as a pure function of what the store knows about the
// room and the target message. The REST API and the STOMP gateway both ask store/targets for a
// target_context (one query) and then this, before anything reaches Kafka; the persistence
// consumer re-checks the parts a race can change (pipeline/event_fold).
#include <chat/proto/message.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace chat::chatd {

// A room's admins (SPEC §16): the OWNER and the ADMINs of a GROUP room, both members of a DIRECT
// room (which has no roles to administer, core/room_roles.hpp). They may pin and delete others'
// messages.
inline constexpr int max_pins_per_room = 3;
inline constexpr std::chrono::hours default_edit_window{48};

struct target_message {
  std::int64_t id = 0;
  std::int64_t sender_id = 0;
  proto::message_type type = proto::message_type::text;
  bool deleted = false;
  bool pinned = false;
  std::int64_t created_at_ms = 0;
  std::int64_t thread_root_id = 0;  // 0: the target is a root
};

// What one query (store::load_target_context) tells about the actor, the room and the target.
struct target_context {
  bool room_exists = false;
  bool member = false;
  proto::room_role role = proto::room_role::member;  // the actor's, when a member (GROUP rooms)
  std::int64_t direct_peer = 0;                      // a DIRECT room's other member (of the actor); 0: a group room
  bool blocked = false;                              // a DIRECT room whose two members are a blocked pair (SPEC §15)
  int pin_count = 0;                                 // the room's pinned messages now
  std::optional<target_message> target;              // absent: no such message in this room
};

// The actor may pin and delete others' messages: an OWNER or ADMIN of a GROUP room, either member
// of a DIRECT room.
inline bool is_room_admin(const target_context& ctx) noexcept {
  return ctx.member && (ctx.direct_peer != 0 || proto::is_admin_role(ctx.role));
}

// A refusal: HTTP status and docs/rest.md error code, with a sentence for the client.
struct event_refusal {
  int status = 400;
  std::string_view code;
  std::string message;
};

// The thread root a reply to `target` gets: the target's own root, or the target.
inline std::int64_t thread_root_of(const target_message& target) noexcept {
  return target.thread_root_id != 0 ? target.thread_root_id : target.id;
}

// Whether `kind` adds to a room (a message, an edit, a reaction, a pin): what a blocked pair may not
// do in their DIRECT room. Taking away (a delete, removing a reaction, an unpin) stays allowed.
inline bool adds_to_room(proto::event_kind kind) noexcept {
  using proto::event_kind;
  switch (kind) {
    case event_kind::message:
    case event_kind::edited:
    case event_kind::reaction_added:
    case event_kind::pinned:
    case event_kind::preview: return true;
    case event_kind::deleted:
    case event_kind::reaction_removed:
    case event_kind::unpinned: return false;
    // Administration events are the server's (api/rooms_routes.cpp); none of them adds content.
    case event_kind::room_updated:
    case event_kind::member_joined:
    case event_kind::member_left:
    case event_kind::member_removed:
    case event_kind::member_role:
    case event_kind::room_deleted: return false;
  }
  return true;
}

// The refusal of an event in a DIRECT room whose members are a blocked pair (403 blocked). It does
// not say who blocks whom.
inline event_refusal blocked_refusal() {
  return event_refusal{403, "blocked", "a block stands between the members of this direct room"};
}

// Checks `event` (its kind, target_id or reply_to_id) against `ctx`; nullopt = allowed.
// Room existence and membership come first (404 / 403), then a block in a DIRECT room (403
// blocked, for what adds_to_room), then the target (404 message_not_found), then the rules of
// §13's table.
inline std::optional<event_refusal> check_room_event(const proto::chat_message& event, const target_context& ctx,
                                                     std::int64_t now_ms,
                                                     std::chrono::milliseconds edit_window = default_edit_window) {
  using proto::event_kind;
  if (!ctx.room_exists) return event_refusal{404, "room_not_found", "no such room"};
  if (!ctx.member) return event_refusal{403, "not_a_member", "you are not a member of this room"};
  if (ctx.blocked && adds_to_room(event.event)) return blocked_refusal();
  if (proto::is_admin_event(event.event)) {
    return event_refusal{400, "validation_error", "room administration events are made by the server"};
  }
  const bool needs_target = event.event != event_kind::message || event.reply_to_id > 0;
  if (!needs_target) return std::nullopt;
  if (!ctx.target) {
    return event_refusal{404, "message_not_found", "no such message in this room"};
  }
  const target_message& t = *ctx.target;
  const bool system = t.type == proto::message_type::system;
  switch (event.event) {
    case event_kind::message:  // a reply
      if (t.deleted) return event_refusal{409, "message_deleted", "the message replied to was deleted"};
      return std::nullopt;
    case event_kind::edited:
      if (system) return event_refusal{409, "system_message", "a SYSTEM message cannot be edited"};
      if (t.deleted) return event_refusal{409, "message_deleted", "the message was deleted"};
      if (t.sender_id != event.sender_id) {
        return event_refusal{403, "not_allowed", "only the sender may edit a message"};
      }
      if (now_ms - t.created_at_ms > edit_window.count()) {
        return event_refusal{409, "edit_window_closed", "the message is too old to be edited"};
      }
      return std::nullopt;
    case event_kind::deleted:
      if (system) return event_refusal{409, "system_message", "a SYSTEM message cannot be deleted"};
      if (t.sender_id != event.sender_id && !is_room_admin(ctx)) {
        return event_refusal{403, "not_allowed", "only the sender or a room admin may delete a message"};
      }
      return std::nullopt;  // deleting a deleted message changes nothing
    case event_kind::reaction_added:
    case event_kind::reaction_removed:
      if (system) return event_refusal{409, "system_message", "a SYSTEM message takes no reactions"};
      if (t.deleted) return event_refusal{409, "message_deleted", "the message was deleted"};
      return std::nullopt;
    case event_kind::pinned:
      if (!is_room_admin(ctx)) return event_refusal{403, "not_allowed", "only a room admin may pin messages"};
      if (t.deleted) return event_refusal{409, "message_deleted", "the message was deleted"};
      if (!t.pinned && ctx.pin_count >= max_pins_per_room) {
        return event_refusal{409, "pin_limit", "a room has at most 3 pinned messages"};
      }
      return std::nullopt;
    case event_kind::unpinned:
      if (!is_room_admin(ctx)) return event_refusal{403, "not_allowed", "only a room admin may unpin messages"};
      return std::nullopt;
    case event_kind::preview:  // the preview role publishes it; no client request makes one
      return event_refusal{403, "not_allowed", "link previews are made by the server"};
    case event_kind::room_updated:
    case event_kind::member_joined:
    case event_kind::member_left:
    case event_kind::member_removed:
    case event_kind::member_role:
    case event_kind::room_deleted: return std::nullopt;  // refused above
  }
  return std::nullopt;
}

}  // namespace chat::chatd
