// chat::client's message-lifecycle helpers (lifecycle.hpp): request bodies, answers, and the
// percent-encoding of an emoji path segment.
#include <chat/client/lifecycle.hpp>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace chat::client {
namespace {

TEST(Lifecycle, DraftJsonHasNoRoomId) {
  message_draft d;
  d.content = "hi \"there\"";
  d.reply_to_id = 7;
  d.message_key = "3b241101-e2bb-4255-8caf-4136c566a962";
  const auto j = nlohmann::json::parse(message_draft_json(d));
  EXPECT_FALSE(j.contains("roomId"));
  EXPECT_EQ(j["content"], "hi \"there\"");
  EXPECT_EQ(j["replyToId"], 7);
  EXPECT_EQ(j["messageKey"], "3b241101-e2bb-4255-8caf-4136c566a962");
  EXPECT_FALSE(j.contains("type"));  // TEXT is the default

  message_draft f;
  f.type = proto::message_type::image;
  f.attachment =
      proto::file_attachment{"/api/files/3b241101-e2bb-4255-8caf-4136c566a962", "cat.png", 10, "image/png", 2, 3};
  const auto k = nlohmann::json::parse(message_draft_json(f));
  EXPECT_EQ(k["type"], "IMAGE");
  EXPECT_EQ(k["content"], "");
  EXPECT_EQ(k["attachment"]["name"], "cat.png");
  EXPECT_EQ(k["attachment"]["width"], 2);
}

TEST(Lifecycle, ForwardJson) {
  EXPECT_EQ(forward_json(4, 0, std::nullopt), R"({"forwardOf":{"roomId":4,"messageId":0}})");
  EXPECT_EQ(forward_json(4, 99, std::string("k")), R"({"forwardOf":{"roomId":4,"messageId":99},"messageKey":"k"})");
}

TEST(Lifecycle, PostedMessage) {
  posted_message p;
  ASSERT_TRUE(parse_posted_message(R"({"id":1099511627790,"messageKey":"abc"})", p));
  EXPECT_EQ(p.id, 1099511627790);
  EXPECT_EQ(p.message_key, "abc");
  ASSERT_TRUE(parse_posted_message(R"({"id":0,"messageKey":"abc"})", p));
  EXPECT_EQ(p.id, 0);
  EXPECT_FALSE(parse_posted_message(R"({"id":-1,"messageKey":"abc"})", p));
  EXPECT_FALSE(parse_posted_message(R"({"id":"1","messageKey":"abc"})", p));
  EXPECT_FALSE(parse_posted_message(R"({"id":1})", p));
  EXPECT_FALSE(parse_posted_message("[]", p));
}

const char* item_json =
    R"({"id":5,"messageKey":"3b241101-e2bb-4255-8caf-4136c566a962","roomId":4,"senderId":7,"senderNickname":"a",)"
    R"("content":"x","type":"TEXT","createdAt":"2026-12-07T12:00:00.000Z","editedAt":null,"deleted":false,)"
    R"("pinned":true,"replyCount":0,"lastReplyAt":null,"reactions":[{"emoji":"👍","count":2,"me":true}]})";

TEST(Lifecycle, BookmarkPageAndMessageList) {
  bookmark_page page;
  ASSERT_TRUE(parse_bookmark_page(std::string(R"({"items":[)") + item_json + R"(],"nextCursor":5})", page));
  ASSERT_EQ(page.items.size(), 1u);
  EXPECT_EQ(page.items[0].room_id, 4);
  ASSERT_TRUE(page.items[0].state);
  EXPECT_TRUE(page.items[0].state->pinned);
  ASSERT_EQ(page.items[0].state->reactions.size(), 1u);
  EXPECT_TRUE(page.items[0].state->reactions[0].me);
  EXPECT_EQ(page.next_cursor, 5);
  ASSERT_TRUE(parse_bookmark_page(R"({"items":[],"nextCursor":null})", page));
  EXPECT_TRUE(page.items.empty());
  EXPECT_FALSE(page.next_cursor);
  EXPECT_FALSE(parse_bookmark_page(R"({"items":[{"id":1}]})", page));
  EXPECT_FALSE(parse_bookmark_page(R"({"nextCursor":null})", page));

  std::vector<proto::chat_message> list;
  ASSERT_TRUE(parse_message_list(std::string("[") + item_json + "]", list));
  EXPECT_EQ(list.size(), 1u);
  ASSERT_TRUE(parse_message_list("[]", list));
  EXPECT_TRUE(list.empty());
  EXPECT_FALSE(parse_message_list("{}", list));
}

TEST(Lifecycle, PercentEncodesEmojiSegments) {
  EXPECT_EQ(percent_encode_segment("👍"), "%F0%9F%91%8D");
  EXPECT_EQ(percent_encode_segment("a+b/c d"), "a%2Bb%2Fc%20d");
  EXPECT_EQ(percent_encode_segment("ok-._~"), "ok-._~");
}

}  // namespace
}  // namespace chat::client
