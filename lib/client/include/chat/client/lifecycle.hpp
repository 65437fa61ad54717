#pragma once
// The message lifecycle of chatd's REST API (SPEC §13, docs/rest.md "Message lifecycle") over a
// rest_client: sending and forwarding over REST, edits, deletes (for everyone or for me),
// reactions, pins, single messages, thread pages and bookmarks. Blocking, like the client.
//
//   auto sent = chat::client::post_message(api, 42, {.content = "hello"});
//   if (sent) chat::client::set_reaction(api, 42, sent.value->id, "👍", true);
//   auto thread = chat::client::thread_page(api, 42, sent.value->id, std::nullopt, 20);
#include <chat/client/rest_client.hpp>
#include <chat/proto/message.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace chat::client {

// POST /api/rooms/{id}/messages answered 201 (new) or 200 (the same messageKey again).
struct posted_message {
  std::int64_t id = 0;
  std::string message_key;
  bool created = false;  // 201

  friend bool operator==(const posted_message&, const posted_message&) = default;
};

// What a REST send carries (the /app/chat.send members but roomId, which is the path's).
struct message_draft {
  std::string content;  // TEXT: the text; IMAGE/FILE: an optional caption
  proto::message_type type = proto::message_type::text;
  std::optional<std::string> message_key;  // a UUID for an idempotent retry; the server makes one if absent
  std::int64_t reply_to_id = 0;            // 0: not a reply
  std::optional<proto::file_attachment> attachment;
};

// The JSON body of a send: {"content","type"?,"messageKey"?,"replyToId"?,"attachment"?}.
std::string message_draft_json(const message_draft& draft);
// The body of a forward: {"forwardOf":{"roomId","messageId"}[,"messageKey"]}.
std::string forward_json(std::int64_t from_room_id, std::int64_t message_id,
                         const std::optional<std::string>& message_key);
// Reads {"id","messageKey"}; false when the body is not that.
bool parse_posted_message(std::string_view body, posted_message& out);

// A page of bookmarks (GET /api/bookmarks): history items, each with its roomId.
struct bookmark_page {
  std::vector<proto::chat_message> items;  // newest bookmark first
  std::optional<std::int64_t> next_cursor;

  friend bool operator==(const bookmark_page&, const bookmark_page&) = default;
};
bool parse_bookmark_page(std::string_view body, bookmark_page& out);
// A JSON array of history items (GET /api/rooms/{id}/pins).
bool parse_message_list(std::string_view body, std::vector<proto::chat_message>& out);

// RFC 3986 percent-encoding of every byte but the unreserved ones, e.g. an emoji: "👍" ->
// "%F0%9F%91%8D": safe as a path segment and as a query value (every client route uses it).
std::string percent_encode_segment(std::string_view text);

// POST /api/rooms/{id}/messages: 201/200 {id, messageKey} once Kafka acknowledged it.
result<posted_message> post_message(rest_client& api, std::int64_t room_id, const message_draft& draft);
// POST /api/rooms/{to}/messages {forwardOf}: the server copies content and attachment.
result<posted_message> forward_message(rest_client& api, std::int64_t to_room_id, std::int64_t from_room_id,
                                       std::int64_t message_id,
                                       const std::optional<std::string>& message_key = std::nullopt);
// PATCH /api/rooms/{id}/messages/{mid} {content}: 202.
response edit_message(rest_client& api, std::int64_t room_id, std::int64_t message_id, std::string_view content);
// DELETE /api/rooms/{id}/messages/{mid}[?for=me]: 202 (everyone) / 204 (me).
response delete_message(rest_client& api, std::int64_t room_id, std::int64_t message_id, bool for_me);
// PUT (add) / DELETE (remove) /api/rooms/{id}/messages/{mid}/reactions/{emoji}: 202.
response set_reaction(rest_client& api, std::int64_t room_id, std::int64_t message_id, std::string_view emoji,
                      bool add);
// PUT (pin) / DELETE (unpin) /api/rooms/{id}/pins/{mid}: 202.
response set_pin(rest_client& api, std::int64_t room_id, std::int64_t message_id, bool pin);
// GET /api/rooms/{id}/pins: the pinned messages as history items.
result<std::vector<proto::chat_message>> pinned_messages(rest_client& api, std::int64_t room_id);
// GET /api/rooms/{id}/messages/{mid}: one history item.
result<proto::chat_message> get_message(rest_client& api, std::int64_t room_id, std::int64_t message_id);
// GET /api/rooms/{id}/messages/{mid}/thread?cursor=&size=: replies oldest first; cursor = the
// last reply seen (the page's nextCursor), nullopt = from the first reply.
result<proto::history_page> thread_page(rest_client& api, std::int64_t room_id, std::int64_t root_id,
                                        std::optional<std::int64_t> cursor, int size = 20);
// PUT (add) / DELETE (remove) /api/bookmarks/{messageId}: 204.
response set_bookmark(rest_client& api, std::int64_t message_id, bool add);
// GET /api/bookmarks?cursor=&size=.
result<bookmark_page> bookmarks(rest_client& api, std::optional<std::int64_t> cursor, int size = 20);

}  // namespace chat::client
