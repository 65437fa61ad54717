// The message-lifecycle routes' request parsing (api/lifecycle_request.hpp): POST bodies
// (messages and forwards), PATCH bodies, path ids and emoji, ?for=, thread-page queries, and the
// node's memory of acknowledged messageKeys.
#include "api/lifecycle_request.hpp"

#include <gtest/gtest.h>

#include <string>

namespace chat::chatd::api {
namespace {

constexpr std::size_t max_chars = 4000;
constexpr const char* key = "3f2b8c1e-8d9a-4c3b-9e5f-0a1b2c3d4e5f";

proto::validation_error post(std::string_view body, post_message_body& out) {
  return parse_post_message_body(body, 7, out, max_chars);
}

TEST(PostMessageBody, TextMessageTakesTheRoomFromThePath) {
  post_message_body body;
  ASSERT_FALSE(post(R"({"content":"hi","roomId":99,"replyToId":5})", body));
  EXPECT_EQ(body.send.room_id, 7);
  EXPECT_EQ(body.send.content, "hi");
  EXPECT_EQ(body.send.reply_to_id, 5);
  EXPECT_EQ(body.send.type, proto::message_type::text);
  EXPECT_FALSE(body.send.message_key);
  EXPECT_FALSE(body.forward);
}

TEST(PostMessageBody, KeyAndAttachment) {
  post_message_body body;
  ASSERT_FALSE(post(std::string(R"({"type":"IMAGE","messageKey":")") + key +
                        R"(","attachment":{"url":"/api/files/3F2B8C1E-8D9A-4C3B-9E5F-0A1B2C3D4E5F"}})",
                    body));
  EXPECT_EQ(body.send.message_key, key);
  EXPECT_EQ(body.send.type, proto::message_type::image);
  ASSERT_TRUE(body.send.attachment);
  EXPECT_EQ(body.send.attachment->url, std::string("/api/files/") + key);
  EXPECT_EQ(body.send.content, "");
}

TEST(PostMessageBody, Forward) {
  post_message_body body;
  ASSERT_FALSE(
      post(std::string(R"({"forwardOf":{"roomId":3,"messageId":1099511627776},"messageKey":")") + key + "\"}", body));
  ASSERT_TRUE(body.forward);
  EXPECT_EQ(*body.forward, (forward_ref{3, 1099511627776}));
  EXPECT_EQ(body.send.room_id, 7);
  EXPECT_EQ(body.send.message_key, key);
}

TEST(PostMessageBody, Refusals) {
  struct bad {
    const char* body;
    proto::errc code;
    const char* field;
  };
  const bad cases[] = {
      {"", proto::errc::invalid_json, ""},
      {"[1]", proto::errc::not_an_object, ""},
      {"{}", proto::errc::missing_field, "content"},
      {R"({"content":"   "})", proto::errc::bad_length, "content"},
      {R"({"content":"x","type":"SYSTEM"})", proto::errc::not_allowed, "type"},
      {R"({"content":"x","replyToId":0})", proto::errc::out_of_range, "replyToId"},
      {R"({"content":"x","messageKey":"nope"})", proto::errc::bad_format, "messageKey"},
      {R"({"content":"x","attachment":{"url":"https://x/y"}})", proto::errc::not_allowed, "attachment"},
      {R"({"forwardOf":[1]})", proto::errc::wrong_type, "forwardOf"},
      {R"({"forwardOf":{"messageId":5}})", proto::errc::missing_field, "forwardOf.roomId"},
      {R"({"forwardOf":{"roomId":0,"messageId":5}})", proto::errc::out_of_range, "forwardOf.roomId"},
      {R"({"forwardOf":{"roomId":1,"messageId":1.5}})", proto::errc::wrong_type, "forwardOf.messageId"},
      {R"({"forwardOf":{"roomId":1,"messageId":9223372036854775808}})", proto::errc::out_of_range,
       "forwardOf.messageId"},
      {R"({"forwardOf":{"roomId":1,"messageId":2},"content":"x"})", proto::errc::not_allowed, "content"},
      {R"({"forwardOf":{"roomId":1,"messageId":2},"messageKey":"x"})", proto::errc::bad_format, "messageKey"},
  };
  for (const auto& c : cases) {
    post_message_body body;
    const auto error = post(c.body, body);
    ASSERT_TRUE(error) << c.body;
    EXPECT_EQ(error.code, proto::make_error_code(c.code)) << c.body << ": " << error.message;
    EXPECT_EQ(error.field, c.field) << c.body;
  }
  post_message_body body;
  EXPECT_EQ(post("{", body).wire_code(), proto::invalid_json_code);
  EXPECT_EQ(post("{}", body).wire_code(), proto::validation_error_code);
}

TEST(EditBody, ContentOnly) {
  proto::edit_request edit;
  ASSERT_FALSE(parse_edit_body(R"({"content":"new","targetId":1,"messageKey":"x"})", 7, 42, edit, max_chars));
  EXPECT_EQ(edit.room_id, 7);
  EXPECT_EQ(edit.target_id, 42);
  EXPECT_EQ(edit.content, "new");
  EXPECT_FALSE(edit.message_key);
  EXPECT_TRUE(parse_edit_body(R"({"content":""})", 7, 42, edit, max_chars));
  EXPECT_TRUE(parse_edit_body(R"({})", 7, 42, edit, max_chars));
  EXPECT_TRUE(parse_edit_body(R"({"content":"x"})", 7, 42, edit, 0));
  EXPECT_EQ(parse_edit_body("nope", 7, 42, edit, max_chars).wire_code(), proto::invalid_json_code);
}

TEST(PathSegments, MessageIds) {
  std::int64_t id = 0;
  EXPECT_FALSE(parse_message_id("1099511627776", id));
  EXPECT_EQ(id, 1099511627776);
  EXPECT_FALSE(parse_message_id("0", id));  // partition 0, offset 0
  EXPECT_EQ(id, 0);
  for (const char* bad : {"", "00", "01", "-1", "1.0", "abc", "9223372036854775808"}) {
    EXPECT_TRUE(parse_message_id(bad, id)) << bad;
  }
}

TEST(PathSegments, EmojiIsPercentDecodedAndChecked) {
  std::string emoji;
  ASSERT_FALSE(parse_emoji_segment("%F0%9F%91%8D", emoji));
  EXPECT_EQ(emoji, "\xF0\x9F\x91\x8D");  // U+1F44D
  ASSERT_FALSE(parse_emoji_segment("+1", emoji));
  EXPECT_EQ(emoji, "+1");  // a path segment: '+' is not a space
  ASSERT_FALSE(parse_emoji_segment("%e2%9d%a4%ef%b8%8f", emoji));
  EXPECT_EQ(emoji, "\xE2\x9D\xA4\xEF\xB8\x8F");
  for (const char* bad : {"", "%", "%F", "%G0", "a%20b", "%00", "123456789", "%FF", "%0A"}) {
    EXPECT_TRUE(parse_emoji_segment(bad, emoji)) << bad;
  }
}

TEST(DeleteScope, ForEveryoneOrMe) {
  bool for_me = true;
  EXPECT_FALSE(parse_delete_for_me("/api/rooms/1/messages/2", for_me));
  EXPECT_FALSE(for_me);
  EXPECT_FALSE(parse_delete_for_me("/x?for=me", for_me));
  EXPECT_TRUE(for_me);
  EXPECT_FALSE(parse_delete_for_me("/x?for=everyone", for_me));
  EXPECT_FALSE(for_me);
  EXPECT_FALSE(parse_delete_for_me("/x?for=", for_me));
  EXPECT_FALSE(for_me);
  EXPECT_TRUE(parse_delete_for_me("/x?for=all", for_me));
  EXPECT_TRUE(parse_delete_for_me("/x?for=%zz", for_me));
}

TEST(ForwardPageQuery, CursorIsExclusiveFromBelow) {
  forward_page_query q;
  ASSERT_FALSE(parse_forward_page_query("/t", q));
  EXPECT_EQ(q, (forward_page_query{0, 20}));
  ASSERT_FALSE(parse_forward_page_query("/t?cursor=55&size=3", q));
  EXPECT_EQ(q, (forward_page_query{55, 3}));
  ASSERT_FALSE(parse_forward_page_query("/t?cursor=0&size=100", q));
  EXPECT_EQ(q, (forward_page_query{0, 100}));
  ASSERT_FALSE(parse_forward_page_query("/t?cursor=&size=", q));
  EXPECT_EQ(q, (forward_page_query{0, 20}));
  for (const char* bad : {"/t?cursor=-1", "/t?cursor=01", "/t?cursor=x", "/t?size=0", "/t?size=101", "/t?size=1.5",
                          "/t?size=+5", "/t?size=1%26cursor%3D5"}) {
    EXPECT_TRUE(parse_forward_page_query(bad, q)) << bad;
  }
}

}  // namespace
}  // namespace chat::chatd::api
