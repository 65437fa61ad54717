#pragma once
// The chat message (docs/events.md): live MESSAGE body, history item and chat.messages Kafka value.
#include <chat/proto/error.hpp>
#include <chat/proto/ids.hpp>
#include <chat/proto/json.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace chat::proto {

// docs/stomp.md: content is limited to 4000 characters (Unicode code points) by default; configurable.
inline constexpr std::size_t default_max_content_code_points = 4000;

enum class message_type { text, system };

std::string_view to_string(message_type type) noexcept;                          // "TEXT" / "SYSTEM"
std::optional<message_type> parse_message_type(std::string_view text) noexcept;  // exact case

struct chat_message {
  std::int64_t id = -1;     // -1 = not yet assigned (the Kafka value); ids are >= 0, see make_message_id()
  std::string message_key;  // UUID, lower case
  std::int64_t room_id = 0;
  std::int64_t sender_id = 0;
  std::string sender_nickname;
  std::string content;
  message_type type = message_type::text;
  std::int64_t created_at_ms = 0;  // Unix ms; "createdAt" in ISO-8601 UTC

  friend bool operator==(const chat_message&, const chat_message&) = default;
};

// Appends the docs/events.md JSON, fields in docs/events.md order, "id" omitted when negative (unassigned):
//   {"id":…,"messageKey":"…","roomId":…,"senderId":…,"senderNickname":"…",
//    "content":"…","type":"TEXT","createdAt":"2026-11-21T12:00:00.123Z"}
// No DOM, one growth of `out` in the common case. Never throws except std::bad_alloc.
void append_json(const chat_message& message, std::string& out);

// Parses and validates a message (a Kafka value, a Redis fan-out payload or a history item):
// messageKey a UUID (stored lower case), roomId and senderId positive, senderNickname a
// string, content a string of at most `max_content_code_points` code points, type
// "TEXT"|"SYSTEM", createdAt an ISO-8601 timestamp; "id" optional (absent = -1, unassigned), otherwise
// a non-negative integer. Unknown members are ignored (forward compatibility).
validation_error parse_chat_message(std::string_view json, chat_message& out,
                                    std::size_t max_content_code_points = default_max_content_code_points);

// SYSTEM notices of membership changes (docs/rest.md), sent by the server through the pipeline like any
// message: sender = the member, content "<nickname> joined" / "<nickname> left". Clients
// cannot send SYSTEM messages, so a notice is the server's.
enum class membership_change { joined, left };
chat_message membership_notice(std::int64_t room_id, std::int64_t user_id, std::string_view nickname,
                               membership_change change);
// The member who left, when `m` is the notice of a departure; nullopt otherwise.
std::optional<std::int64_t> departed_member(const chat_message& m);

}  // namespace chat::proto
