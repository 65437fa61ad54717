#pragma once
// Request parsing of the message-lifecycle routes (docs/rest.md "Message lifecycle", SPEC §13).
// Pure (no I/O), unit-tested
// (tests/unit/chatd_api/lifecycle_request_test.cpp). Failures are proto::validation_error
// values (HTTP 400).
#include <chat/proto/commands.hpp>
#include <chat/proto/error.hpp>

#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>

namespace chat::chatd::api {

// POST /api/rooms/{id}/messages: either a message of its own (the /app/chat.send members but
// roomId, which is the path's) or a forward {"forwardOf":{"roomId","messageId"},"messageKey"?}.
struct forward_ref {
  std::int64_t room_id = 0;
  std::int64_t message_id = 0;

  friend bool operator==(const forward_ref&, const forward_ref&) = default;
};

struct post_message_body {
  proto::send_request send;            // room_id = the path's; for a forward only message_key is set
  std::optional<forward_ref> forward;  // set: a forward (content, type, attachment come from the source)

  friend bool operator==(const post_message_body&, const post_message_body&) = default;
};

// A "roomId" member of the body is ignored (the path names the room). A forward takes no
// content, type, attachment or replyToId (not_allowed).
proto::validation_error parse_post_message_body(std::string_view body, std::int64_t room_id, post_message_body& out,
                                                std::size_t max_content_code_points);

// PATCH /api/rooms/{id}/messages/{mid}: {"content"} (the rules of a TEXT message's content).
proto::validation_error parse_edit_body(std::string_view body, std::int64_t room_id, std::int64_t message_id,
                                        proto::edit_request& out, std::size_t max_content_code_points);

// A message id from a path segment ({mid}, {messageId}): a canonical non-negative int64 (0 is the
// first record of partition 0).
proto::validation_error parse_message_id(std::string_view segment, std::int64_t& out);

// The {emoji} path segment: percent-decoded (RFC 3986: '+' stays '+'), then proto::check_emoji.
proto::validation_error parse_emoji_segment(std::string_view segment, std::string& out);

// DELETE /api/rooms/{id}/messages/{mid}?for=everyone|me (absent or empty: everyone).
proto::validation_error parse_delete_for_me(std::string_view target, bool& for_me);

// A page of a list read oldest first (thread replies): ?cursor= is exclusive from below
// (replies with id > cursor; absent or empty: from the first), size 1..100 (default 20).
struct forward_page_query {
  std::int64_t after = 0;
  int size = 20;

  friend bool operator==(const forward_page_query&, const forward_page_query&) = default;
};
proto::validation_error parse_forward_page_query(std::string_view target, forward_page_query& out);

}  // namespace chat::chatd::api
