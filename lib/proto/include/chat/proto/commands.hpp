#pragma once
// Bodies that STOMP clients SEND (docs/stomp.md). The sender is always the authenticated user, so none
// of these carries a user id. Parsers validate; serializers are for our own clients
// (chatctl, chatload, tests).
#include <chat/proto/error.hpp>
#include <chat/proto/json.hpp>
#include <chat/proto/message.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace chat::proto {

// /app/chat.send: {"roomId":…, "content":"…", "type":"TEXT"?, "messageKey":"…"?, "replyToId":…?,
//                  "attachment":{…}?}
struct send_request {
  std::int64_t room_id = 0;
  std::string content;
  std::optional<std::string> message_key;     // UUID, lower case; the gateway makes one if absent
  message_type type = message_type::text;     // TEXT, IMAGE or FILE
  std::int64_t reply_to_id = 0;               // 0 = not a reply
  std::optional<file_attachment> attachment;  // IMAGE and FILE (then content is an optional caption)

  friend bool operator==(const send_request&, const send_request&) = default;
};

// Rules: roomId positive; type, when given, "TEXT", "IMAGE" or "FILE" ("SYSTEM" is not_allowed:
// only the server writes system messages); TEXT: content a string, not blank (not only
// whitespace), at most `max_content_code_points` code points, no attachment; IMAGE/FILE: an
// attachment (check_attachment()), content optional (a caption, may be empty); messageKey, when
// given, a UUID; replyToId, when given, positive. A null optional member counts as absent.
validation_error parse_send_request(std::string_view json, send_request& out,
                                    std::size_t max_content_code_points = default_max_content_code_points);

// A SEND to /topic/room.{room_id} (docs/stomp.md): the body is the content, either as plain text or as
// a JSON object with a "content" member (and optionally "messageKey"). A body that is a JSON
// object with a "content" member is read as JSON; any other body is plain text, which must
// be valid UTF-8. Same content rules as parse_send_request().
validation_error parse_room_send_body(std::string_view body, std::int64_t room_id, send_request& out,
                                      std::size_t max_content_code_points = default_max_content_code_points);

// Emits {"roomId":…,"content":"…"[,"messageKey":"…"][,"type":"IMAGE"][,"replyToId":…][,"attachment":{…}]}
// ("type" omitted for TEXT).
void append_json(const send_request& request, std::string& out);

// /app/chat.edit: {"roomId":…, "targetId":…, "content":"…", "messageKey":"…"?}
// Content rules as for a TEXT send.
struct edit_request {
  std::int64_t room_id = 0;
  std::int64_t target_id = 0;
  std::string content;
  std::optional<std::string> message_key;

  friend bool operator==(const edit_request&, const edit_request&) = default;
};

validation_error parse_edit_request(std::string_view json, edit_request& out,
                                    std::size_t max_content_code_points = default_max_content_code_points);
void append_json(const edit_request& request, std::string& out);

// /app/chat.delete: {"roomId":…, "targetId":…, "messageKey":"…"?, "forMe":false?}
// forMe: hide the message from the caller only (nothing reaches the room).
struct delete_request {
  std::int64_t room_id = 0;
  std::int64_t target_id = 0;
  std::optional<std::string> message_key;
  bool for_me = false;

  friend bool operator==(const delete_request&, const delete_request&) = default;
};

validation_error parse_delete_request(std::string_view json, delete_request& out);
void append_json(const delete_request& request, std::string& out);

// /app/chat.react: {"roomId":…, "targetId":…, "emoji":"…", "remove":false?, "messageKey":"…"?}
struct react_request {
  std::int64_t room_id = 0;
  std::int64_t target_id = 0;
  std::string emoji;
  bool remove = false;
  std::optional<std::string> message_key;

  friend bool operator==(const react_request&, const react_request&) = default;
};

validation_error parse_react_request(std::string_view json, react_request& out);
void append_json(const react_request& request, std::string& out);

// /app/chat.read: {"roomId":…, "lastReadMessageId":…} — lastReadMessageId >= 0.
struct read_request {
  std::int64_t room_id = 0;
  std::int64_t last_read_message_id = 0;

  friend bool operator==(const read_request&, const read_request&) = default;
};

validation_error parse_read_request(std::string_view json, read_request& out);
void append_json(const read_request& request, std::string& out);

// /app/chat.typing: {"roomId":…}
struct typing_request {
  std::int64_t room_id = 0;

  friend bool operator==(const typing_request&, const typing_request&) = default;
};

validation_error parse_typing_request(std::string_view json, typing_request& out);
void append_json(const typing_request& request, std::string& out);

}  // namespace chat::proto
