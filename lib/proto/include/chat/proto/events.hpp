#pragma once
// Events the server produces: on Kafka (read receipts), on Redis and STOMP (presence, typing,
// read marks).
// Timestamps are Unix ms in memory and ISO-8601 UTC ("at") on the wire.
#include <chat/proto/error.hpp>
#include <chat/proto/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace chat::proto {

// Kafka value of chat.read-receipts (docs/topics.md):
//   {"roomId":…,"userId":…,"lastReadMessageId":…,"at":"…"}
struct read_receipt {
  std::int64_t room_id = 0;
  std::int64_t user_id = 0;
  std::int64_t last_read_message_id = 0;
  std::int64_t at_ms = 0;

  friend bool operator==(const read_receipt&, const read_receipt&) = default;
};

void append_json(const read_receipt& receipt, std::string& out);
// roomId, userId positive; lastReadMessageId >= 0; at ISO-8601.
validation_error parse_read_receipt(std::string_view json, read_receipt& out);

// Channel chat:presence and destination /topic/presence (docs/stomp.md):
// {"userId":…,"status":"ONLINE"|"OFFLINE","at":"…"}
enum class presence_status { online, offline };

std::string_view to_string(presence_status status) noexcept;  // "ONLINE" / "OFFLINE"
std::optional<presence_status> parse_presence_status(std::string_view text) noexcept;

struct presence_event {
  std::int64_t user_id = 0;
  presence_status status = presence_status::online;
  std::int64_t at_ms = 0;

  friend bool operator==(const presence_event&, const presence_event&) = default;
};

void append_json(const presence_event& event, std::string& out);
validation_error parse_presence_event(std::string_view json, presence_event& out);

// Destination /topic/room.{id}.typing: {"roomId":…,"userId":…,"nickname":"…","at":"…"}
struct typing_event {
  std::int64_t room_id = 0;
  std::int64_t user_id = 0;
  std::string nickname;
  std::int64_t at_ms = 0;

  friend bool operator==(const typing_event&, const typing_event&) = default;
};

void append_json(const typing_event& event, std::string& out);
// For relaying typing notices between nodes; roomId, userId positive, nickname a string.
validation_error parse_typing_event(std::string_view json, typing_event& out);

// Channel chat:user:{userId} and destination /user/queue/notifications (docs/stomp.md): events
// for one user's sessions on every node. The one kind so far, delete-for-me (the user's other
// sessions stop showing the message): {"event":"message.hidden","roomId":…,"messageId":…}
inline constexpr std::string_view message_hidden_event_name = "message.hidden";

struct message_hidden_event {
  std::int64_t room_id = 0;
  std::int64_t message_id = 0;

  friend bool operator==(const message_hidden_event&, const message_hidden_event&) = default;
};

void append_json(const message_hidden_event& event, std::string& out);
// "event" is "message.hidden"; roomId positive; messageId >= 0 (a message id, ids.hpp).
validation_error parse_message_hidden_event(std::string_view json, message_hidden_event& out);

// Channel chat:room:{roomId} beside the room events, and MESSAGE bodies on /topic/room.{id}
// with chat-event:read (docs/stomp.md): a member's read mark moved forwards. Published by the
// read-receipts consumer after its transaction committed. Not a room event: no id of its own,
// not stored in room_events, not replayed by recovery.
//   {"event":"read","roomId":…,"userId":…,"lastReadMessageId":…}
inline constexpr std::string_view read_event_name = "read";

struct read_event {
  std::int64_t room_id = 0;
  std::int64_t user_id = 0;
  std::int64_t last_read_message_id = 0;

  friend bool operator==(const read_event&, const read_event&) = default;
};

void append_json(const read_event& event, std::string& out);
// "event" is "read"; roomId, userId positive; lastReadMessageId >= 0.
validation_error parse_read_event(std::string_view json, read_event& out);
// A cheap test for a payload on a room channel: true when `json` starts the way append_json
// writes a read event ({"event":"read",…). Chat messages start with {"id":…. parse_read_event
// still decides whether it is a valid one.
bool looks_like_read_event(std::string_view json) noexcept;
// The MESSAGE's message-id: "r<roomId>-<userId>-<lastReadMessageId>".
std::string read_event_message_id(const read_event& event);

// Channel chat:user:{userId}: the user's room list changed -- they were added to a room (invited,
// joined, created it) or left it / were removed. Published by the REST paths that change the
// membership, after their transaction committed; every node's room feed (gateway/room_feed.hpp)
// turns it into /user/queue/rooms MESSAGEs and GET /api/rooms/stream events. Not delivered on
// /user/queue/notifications.  {"event":"room.added"|"room.removed","roomId":…}
inline constexpr std::string_view room_added_event_name = "room.added";
inline constexpr std::string_view room_removed_event_name = "room.removed";

struct room_membership_event {
  std::int64_t room_id = 0;
  bool added = true;  // false: removed

  friend bool operator==(const room_membership_event&, const room_membership_event&) = default;
};

void append_json(const room_membership_event& event, std::string& out);
// "event" is "room.added" or "room.removed"; roomId positive.
validation_error parse_room_membership_event(std::string_view json, room_membership_event& out);

// Channel chat:membership, which every node listens to (docs/topics.md): users whose membership
// of a room ended -- they left, were removed, or the room was deleted. Published by the REST paths
// after their transaction committed; each node tells its connected sessions of those users to
// forget their cached membership of the room, so their next SEND or SUBSCRIBE asks the store
// (their subscriptions end with the room event, in room order).  {"roomId":…,"userIds":[…]}
inline constexpr std::size_t max_revoked_users = 10000;

struct membership_revoked {
  std::int64_t room_id = 0;
  std::vector<std::int64_t> user_ids;

  friend bool operator==(const membership_revoked&, const membership_revoked&) = default;
};

void append_json(const membership_revoked& event, std::string& out);
// roomId positive; userIds an array of positive ids (at most max_revoked_users).
validation_error parse_membership_revoked(std::string_view json, membership_revoked& out);

}  // namespace chat::proto
