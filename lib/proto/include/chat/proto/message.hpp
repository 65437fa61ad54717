#pragma once
// Room events (docs/events.md, SPEC §13): the chat.messages Kafka value, the live MESSAGE body
// and, with its current state, the history item. A plain message is the event "message"; the
// message-lifecycle events (edits, deletes, reactions, pins) name the message they change by
// `targetId`; the room-administration events (SPEC §16: renames, membership, roles, deletion)
// carry their own members and a SYSTEM text.
#include <chat/proto/error.hpp>
#include <chat/proto/ids.hpp>
#include <chat/proto/json.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace chat::proto {

// docs/stomp.md: content is limited to 4000 characters (Unicode code points) by default; configurable.
inline constexpr std::size_t default_max_content_code_points = 4000;

// SPEC §13: a reaction is 1–8 Unicode scalar values, no whitespace, no control characters.
inline constexpr std::size_t max_emoji_code_points = 8;
// An attachment's file name, in code points.
inline constexpr std::size_t max_attachment_name_code_points = 255;
// An attachment's URL and MIME type, in bytes.
inline constexpr std::size_t max_attachment_url_bytes = 2048;
inline constexpr std::size_t max_mime_type_bytes = 127;

enum class message_type { text, system, image, file };

std::string_view to_string(message_type type) noexcept;                          // "TEXT", "SYSTEM", "IMAGE", "FILE"
std::optional<message_type> parse_message_type(std::string_view text) noexcept;  // exact case

// The kind of a room event; the wire name is the "event" member and the chat-event header.
enum class event_kind : std::uint8_t {
  message,           // "message": a new message (the JSON omits "event")
  edited,            // "message.edited": targetId, content
  deleted,           // "message.deleted": targetId
  reaction_added,    // "reaction.added": targetId, emoji
  reaction_removed,  // "reaction.removed": targetId, emoji
  pinned,            // "message.pinned": targetId
  unpinned,          // "message.unpinned": targetId
  preview,           // "message.preview": targetId, preview (the server's only, SPEC §16)
  // Room administration (SPEC §16, docs/events.md "Room administration events"): no targetId;
  // each carries its SYSTEM text as content (type SYSTEM).
  room_updated,    // "room.updated": name?, notice?
  member_joined,   // "member.joined": userId, role
  member_left,     // "member.left": userId
  member_removed,  // "member.removed": userId
  member_role,     // "member.role": userId, role
  room_deleted,    // "room.deleted"
};

std::string_view to_string(event_kind kind) noexcept;
std::optional<event_kind> parse_event_kind(std::string_view text) noexcept;  // exact case

// A room-administration event (room.updated, member.*, room.deleted): made by the server only.
bool is_admin_event(event_kind kind) noexcept;
// An event the store keeps as a SYSTEM history item carrying its text (room.updated, member.*):
// a row of `messages`, like a message, so history shows it and it counts as unread.
bool is_history_notice(event_kind kind) noexcept;

// A member's role in a GROUP room (SPEC §16). Both members of a DIRECT room act as its admins.
enum class room_role : std::uint8_t { owner, admin, member };
std::string_view to_string(room_role role) noexcept;                       // "OWNER", "ADMIN", "MEMBER"
std::optional<room_role> parse_room_role(std::string_view text) noexcept;  // exact case
// OWNER or ADMIN: may rename, remove members, pin and delete others' messages.
constexpr bool is_admin_role(room_role role) noexcept { return role != room_role::member; }
// A room's notice (room.updated, PATCH /api/rooms/{id}): at most this many code points.
inline constexpr std::size_t max_notice_code_points = 500;

// An IMAGE's or FILE's attachment: url is https://… or /api/files/{uuid} (SPEC §16).
struct file_attachment {
  std::string url;
  std::string name;
  std::int64_t size = 0;
  std::string mime_type;
  std::optional<std::int32_t> width;
  std::optional<std::int32_t> height;

  friend bool operator==(const file_attachment&, const file_attachment&) = default;
};

// {"url","name","size","mimeType"[,"width","height"]}: the attachment as messages and send
// requests carry it.
void append_json(const file_attachment& attachment, std::string& out);

// The file id of an attachment url "/api/files/{uuid}" (lower case), nullopt for any other url.
std::optional<std::string> attachment_file_id(std::string_view url);

// A link preview (SPEC §16): what the server's preview role read from the page of a message's
// first http(s) URL. `url` is that URL as the message has it and is never empty; the others
// may be empty (JSON null). Limits (check_link_preview): url and imageUrl http:// or https://,
// at most 2048 bytes, no spaces or control characters; title, description and siteName at most
// 300, 1000 and 100 code points, no control characters.
inline constexpr std::size_t max_preview_url_bytes = 2048;
inline constexpr std::size_t max_preview_title_code_points = 300;
inline constexpr std::size_t max_preview_description_code_points = 1000;
inline constexpr std::size_t max_preview_site_name_code_points = 100;

struct link_preview {
  std::string url;
  std::string title;
  std::string description;
  std::string image_url;  // "imageUrl"
  std::string site_name;  // "siteName"

  friend bool operator==(const link_preview&, const link_preview&) = default;
};

// {"url":"…","title":…,"description":…,"imageUrl":…,"siteName":…}, empty members as null.
void append_json(const link_preview& preview, std::string& out);

// The limits above; `field` names the object in errors ("preview").
validation_error check_link_preview(const link_preview& preview, const char* field = "preview");

// Set by the server on a forwarded message.
struct forward_origin {
  std::int64_t room_id = 0;
  std::int64_t message_id = 0;
  std::string sender_nickname;

  friend bool operator==(const forward_origin&, const forward_origin&) = default;
};

struct reaction_count {
  std::string emoji;
  std::int64_t count = 0;
  bool me = false;  // the caller reacted with this emoji

  friend bool operator==(const reaction_count&, const reaction_count&) = default;
};

// What a history item shows beyond the event that created it: the effect of the events that
// changed it since (SPEC §13, "History items show the current state").
struct message_state {
  std::optional<std::int64_t> edited_at_ms;  // "editedAt"
  bool deleted = false;
  bool pinned = false;
  std::int64_t reply_count = 0;                  // thread roots: replies so far
  std::optional<std::int64_t> last_reply_at_ms;  // "lastReplyAt"
  std::vector<reaction_count> reactions;         // by emoji, in first-reaction order
  std::optional<link_preview> preview;           // "preview": set by message.preview, null when none

  friend bool operator==(const message_state&, const message_state&) = default;
};

struct chat_message {
  std::int64_t id = -1;     // -1 = not yet assigned (the Kafka value); ids are >= 0, see make_message_id()
  std::string message_key;  // UUID, lower case
  std::int64_t room_id = 0;
  std::int64_t sender_id = 0;  // the acting user
  std::string sender_nickname;
  std::string content;  // message: the text (a caption, may be empty, for IMAGE/FILE); edited: the new text
  message_type type = message_type::text;  // event "message" only
  std::int64_t created_at_ms = 0;          // Unix ms; "createdAt" in ISO-8601 UTC

  event_kind event = event_kind::message;
  std::int64_t target_id =
      0;  // every event but "message": the message it changes (>= 0: id 0 is the first record of partition 0)
  std::int64_t reply_to_id = 0;               // message: the message it answers, 0 = none
  std::int64_t thread_root_id = 0;            // message with reply_to_id: the root of its thread (set by the server)
  std::optional<file_attachment> attachment;  // message of type IMAGE/FILE
  std::optional<forward_origin> forwarded_from;
  std::string emoji;                    // reaction.added / reaction.removed
  std::optional<link_preview> preview;  // message.preview (required there)
  // message: a scheduled message sent late (docs/rest.md "Scheduled messages"): the time its
  // occurrence was due; "scheduledFor" in ISO-8601 UTC. Absent on every other message.
  std::optional<std::int64_t> scheduled_for_ms;
  // Room administration events (is_admin_event): the member concerned ("userId", member.*),
  // their role (member.joined, member.role), the room's new name and notice (room.updated; a
  // notice "" clears it). The SYSTEM text is `content`.
  std::int64_t user_id = 0;
  std::optional<room_role> role;
  std::optional<std::string> name;
  std::optional<std::string> notice;

  std::optional<message_state> state;  // history items only; absent in Kafka values and live events

  friend bool operator==(const chat_message&, const chat_message&) = default;
};

// Appends the docs/events.md JSON, fields in docs/events.md order, "id" omitted when negative (unassigned).
// A room-administration event:
//   {"id":…,"event":"member.role","messageKey":"…","roomId":…,"senderId":…,"senderNickname":"…",
//    ["userId":…,]["role":"ADMIN",]["name":"…",]["notice":"…",]"content":"…","type":"SYSTEM","createdAt":"…"}
// A message:
//   {"id":…,"messageKey":"…","roomId":…,"senderId":…,"senderNickname":"…",
//    "content":"…","type":"TEXT","createdAt":"2026-11-21T12:00:00.123Z"
//    [,"replyToId":…,"threadRootId":…][,"attachment":{…}][,"forwardedFrom":{…}][,"scheduledFor":"…"]
//    [,"editedAt":…,"deleted":…,"pinned":…,"replyCount":…,"lastReplyAt":…,"reactions":[…],"preview":…]}
// (the last group when `state` is set: history items). Another event:
//   {"id":…,"event":"message.edited","messageKey":"…","roomId":…,"senderId":…,"senderNickname":"…",
//    "targetId":…[,"content":"…"][,"emoji":"…"][,"preview":{…}],"createdAt":"…"}
// No DOM, one growth of `out` in the common case. Never throws except std::bad_alloc.
void append_json(const chat_message& message, std::string& out);

// Parses and validates a room event (a Kafka value, a Redis fan-out payload, a live MESSAGE body
// or a history item): "event" absent or a known name; messageKey a UUID (stored lower case),
// roomId and senderId positive, senderNickname a string, createdAt an ISO-8601 timestamp; "id"
// optional (absent = -1, unassigned), otherwise a non-negative integer.
// message: content a string of at most `max_content_code_points` code points, type
//   TEXT|SYSTEM|IMAGE|FILE; IMAGE and FILE need an attachment, TEXT and SYSTEM have none;
//   replyToId/threadRootId positive when present (threadRootId only with replyToId);
//   the state members when "deleted" is present (a history item); scheduledFor an ISO-8601
//   timestamp when present.
// message.edited: targetId >= 0 (a message id), content as above and not blank.
// message.deleted, message.pinned, message.unpinned: targetId >= 0 (a message id).
// reaction.added / reaction.removed: targetId >= 0 (a message id), emoji valid (check_emoji()).
// message.preview: targetId >= 0 (a message id), preview an object (check_link_preview()).
// room.updated: name (a room name) and/or notice (at most max_notice_code_points); member.*:
//   userId positive; member.role: role; member.joined: role optional; every administration
//   event: content a string as above, type absent or "SYSTEM".
// Unknown members are ignored (forward compatibility).
validation_error parse_chat_message(std::string_view json, chat_message& out,
                                    std::size_t max_content_code_points = default_max_content_code_points);

// 1–8 Unicode scalar values, none of them whitespace or a control/format character that would
// hide it (SPEC §13). `field` names the member in the error.
validation_error check_emoji(std::string_view emoji, const char* field = "emoji");

// An attachment as clients send it and records carry it: url https://… (no spaces, at most
// 2048 bytes) or /api/files/{uuid}; name 1–255 code points without control characters; size
// >= 0; mimeType "type/subtype" (at most 127 bytes, lower-cased); width/height positive when
// present.
validation_error check_attachment(file_attachment& value);

// The membership events of joining and leaving (docs/events.md), sent by the server through the
// pipeline: member.joined (role MEMBER) / member.left with sender = userId = the member and the
// SYSTEM text "<nickname> joined" / "<nickname> left". messageKey and createdAt are left to the
// caller.
enum class membership_change { joined, left };
chat_message membership_notice(std::int64_t room_id, std::int64_t user_id, std::string_view nickname,
                               membership_change change);
// The other administration events, by `actor` (sender) with their SYSTEM text:
//   member.removed "<actor> removed <nickname>"; member.role "<nickname> is now the owner" / "an
//   admin" / "a member"; room.updated "<actor> renamed the room to <name>", "… changed the
//   notice", "… cleared the notice"; room.deleted "<actor> deleted the room".
chat_message member_removed_notice(std::int64_t room_id, std::int64_t actor, std::string_view actor_nickname,
                                   std::int64_t user_id, std::string_view nickname);
chat_message member_role_notice(std::int64_t room_id, std::int64_t actor, std::string_view actor_nickname,
                                std::int64_t user_id, std::string_view nickname, room_role role);
chat_message room_updated_notice(std::int64_t room_id, std::int64_t actor, std::string_view actor_nickname,
                                 std::optional<std::string> name, std::optional<std::string> notice);
chat_message room_deleted_notice(std::int64_t room_id, std::int64_t actor, std::string_view actor_nickname);
// The member whose membership `m` ends (member.left, member.removed; also the SYSTEM message
// "<nickname> left" that announced departures before the administration events existed);
// nullopt otherwise. room.deleted ends everyone's: see ends_room().
std::optional<std::int64_t> departed_member(const chat_message& m);
// The member who joined (member.joined, or a SYSTEM message "<nickname> joined" of before).
std::optional<std::int64_t> joined_member(const chat_message& m);
// room.deleted: the room is gone for every member.
inline bool ends_room(const chat_message& m) noexcept { return m.event == event_kind::room_deleted; }
// The history item an event stored as a SYSTEM item shows (is_history_notice): the same id,
// key, sender, text and time as a SYSTEM message, without the event's own members.
chat_message as_history_notice(const chat_message& event);

}  // namespace chat::proto
