#include <chat/proto/commands.hpp>

#include "test_support.hpp"

using namespace chat::proto;
using chat::proto::test::fails_with;
using chat::proto::test::hostile_strings;
using chat::proto::test::reparse;

namespace {

constexpr const char* key = "3b241101-e2bb-4255-8caf-4136c566a962";

validation_error send(std::string_view json, std::size_t max = default_max_content_code_points) {
  send_request out;
  return parse_send_request(json, out, max);
}

std::string repeat(std::string_view unit, int count) {
  std::string out;
  for (int i = 0; i < count; ++i) out += unit;
  return out;
}

}  // namespace

TEST(SendRequest, ParsesMinimalAndFullBodies) {
  send_request out;
  ASSERT_FALSE(parse_send_request(R"({"roomId":5,"content":"hi"})", out));
  EXPECT_EQ(out, (send_request{5, "hi", std::nullopt}));

  ASSERT_FALSE(parse_send_request(
      R"({"roomId":5,"content":"hi","type":"TEXT","messageKey":"3B241101-E2BB-4255-8CAF-4136C566A962"})", out));
  EXPECT_EQ(out, (send_request{5, "hi", std::string(key)}));

  // null counts as absent for the optional members.
  ASSERT_FALSE(parse_send_request(R"({"roomId":5,"content":"hi","type":null,"messageKey":null})", out));
  EXPECT_EQ(out, (send_request{5, "hi", std::nullopt}));
}

TEST(SendRequest, RoundTrips) {
  for (const send_request& request :
       {send_request{1, "x", std::nullopt}, send_request{INT64_MAX, "multi\nline \"quoted\"", std::string(key)}}) {
    send_request back;
    ASSERT_FALSE(parse_send_request(to_json(request), back));
    EXPECT_EQ(back, request);
  }
  EXPECT_EQ(to_json(send_request{5, "hi", std::string(key)}),
            R"({"roomId":5,"content":"hi","messageKey":"3b241101-e2bb-4255-8caf-4136c566a962"})");
}

TEST(SendRequest, HostileContentRoundTrips) {
  for (const std::string& s : hostile_strings()) {
    const send_request request{9, s, std::nullopt};
    const std::string json = to_json(request);
    EXPECT_EQ(reparse(json).at("content").get<std::string>(), s);
    send_request back;
    const auto error = parse_send_request(json, back, 1'000'000);
    if (s.find_first_not_of(" \t\n\r\f\v") == std::string::npos) {
      EXPECT_TRUE(fails_with(error, errc::bad_length, "content"));  // blank content
      continue;
    }
    if (s.find('\0') != std::string::npos) {
      EXPECT_TRUE(fails_with(error, errc::bad_characters, "content"));  // U+0000: PostgreSQL cannot store it
      continue;
    }
    ASSERT_FALSE(error) << error.message;
    EXPECT_EQ(back, request);
  }
}

TEST(SendRequest, ClientsMayNotSendSystemMessages) {
  EXPECT_TRUE(fails_with(send(R"({"roomId":5,"content":"hi","type":"SYSTEM"})"), errc::not_allowed, "type"));
  EXPECT_TRUE(fails_with(send(R"({"roomId":5,"content":"hi","type":"text"})"), errc::bad_format, "type"));
  EXPECT_TRUE(fails_with(send(R"({"roomId":5,"content":"hi","type":1})"), errc::wrong_type, "type"));
}

TEST(SendRequest, ContentBoundaries) {
  // 4000 code points of a 4-byte character are accepted, 4001 are not.
  const nlohmann::json ok = repeat("\xF0\x9F\x98\x80", 4000);
  const nlohmann::json too_long = repeat("\xF0\x9F\x98\x80", 4001);
  EXPECT_FALSE(send(R"({"roomId":5,"content":)" + ok.dump() + "}"));
  EXPECT_TRUE(fails_with(send(R"({"roomId":5,"content":)" + too_long.dump() + "}"), errc::bad_length, "content"));
  EXPECT_FALSE(send(R"({"roomId":5,"content":")" + repeat("a", 4000) + "\"}"));
  EXPECT_TRUE(fails_with(send(R"({"roomId":5,"content":")" + repeat("a", 4001) + "\"}"), errc::bad_length, "content"));
  EXPECT_TRUE(fails_with(send(R"({"roomId":5,"content":"abcdef"})", 5), errc::bad_length, "content"));
  EXPECT_TRUE(fails_with(send(R"({"roomId":5,"content":""})"), errc::bad_length, "content"));
  EXPECT_TRUE(fails_with(send(R"({"roomId":5,"content":" \n\t "})"), errc::bad_length, "content"));
  EXPECT_FALSE(send(R"({"roomId":5,"content":" . "})"));
}

TEST(SendRequest, WrongTypesAreValidationErrors) {
  EXPECT_TRUE(fails_with(send(R"({"content":"hi"})"), errc::missing_field, "roomId"));
  EXPECT_TRUE(fails_with(send(R"({"roomId":"5","content":"hi"})"), errc::wrong_type, "roomId"));
  EXPECT_TRUE(fails_with(send(R"({"roomId":5.0,"content":"hi"})"), errc::wrong_type, "roomId"));
  EXPECT_TRUE(fails_with(send(R"({"roomId":5e0,"content":"hi"})"), errc::wrong_type, "roomId"));
  EXPECT_TRUE(fails_with(send(R"({"roomId":false,"content":"hi"})"), errc::wrong_type, "roomId"));
  EXPECT_TRUE(fails_with(send(R"({"roomId":0,"content":"hi"})"), errc::out_of_range, "roomId"));
  EXPECT_TRUE(fails_with(send(R"({"roomId":5})"), errc::missing_field, "content"));
  EXPECT_TRUE(fails_with(send(R"({"roomId":5,"content":42})"), errc::wrong_type, "content"));
  EXPECT_TRUE(fails_with(send(R"({"roomId":5,"content":["hi"]})"), errc::wrong_type, "content"));
  EXPECT_TRUE(fails_with(send(R"({"roomId":5,"content":null})"), errc::wrong_type, "content"));
  EXPECT_TRUE(fails_with(send(R"({"roomId":5,"content":"hi","messageKey":"nope"})"), errc::bad_format, "messageKey"));
  EXPECT_TRUE(fails_with(send(R"({"roomId":5,"content":"hi","messageKey":7})"), errc::wrong_type, "messageKey"));
  EXPECT_TRUE(fails_with(send(R"([{"roomId":5,"content":"hi"}])"), errc::not_an_object, ""));
  EXPECT_TRUE(fails_with(send("hello"), errc::invalid_json, ""));
}

TEST(RoomSendBody, PlainTextBecomesTheContent) {
  send_request out;
  ASSERT_FALSE(parse_room_send_body("hello world\n", 7, out));
  EXPECT_EQ(out, (send_request{7, "hello world\n", std::nullopt}));
  ASSERT_FALSE(parse_room_send_body("{not json", 7, out));
  EXPECT_EQ(out.content, "{not json");
  ASSERT_FALSE(parse_room_send_body(R"({"text":"a JSON object without content"})", 7, out));
  EXPECT_EQ(out.content, R"({"text":"a JSON object without content"})");
  ASSERT_FALSE(parse_room_send_body("[1,2]", 7, out));
  EXPECT_EQ(out.content, "[1,2]");
}

TEST(RoomSendBody, JsonWithContentIsUnwrapped) {
  send_request out;
  ASSERT_FALSE(
      parse_room_send_body(R"( {"content":"hi","messageKey":"3b241101-e2bb-4255-8caf-4136c566a962"} )", 7, out));
  EXPECT_EQ(out, (send_request{7, "hi", std::string(key)}));
  // The destination decides the room, not the body.
  ASSERT_FALSE(parse_room_send_body(R"({"content":"hi","roomId":99})", 7, out));
  EXPECT_EQ(out.room_id, 7);
  EXPECT_TRUE(
      fails_with([&] { return parse_room_send_body(R"({"content":5})", 7, out); }(), errc::wrong_type, "content"));
  EXPECT_TRUE(fails_with([&] { return parse_room_send_body(R"({"content":"x","type":"SYSTEM"})", 7, out); }(),
                         errc::not_allowed, "type"));
}

TEST(RoomSendBody, ValidatesPlainText) {
  send_request out;
  EXPECT_TRUE(fails_with(parse_room_send_body("bad\xFF", 7, out), errc::bad_characters, "content"));
  EXPECT_TRUE(fails_with(parse_room_send_body("", 7, out), errc::bad_length, "content"));
  EXPECT_TRUE(fails_with(parse_room_send_body("  \r\n", 7, out), errc::bad_length, "content"));
  EXPECT_FALSE(parse_room_send_body(repeat("\xC3\xA9", 4000), 7, out));
  EXPECT_TRUE(fails_with(parse_room_send_body(repeat("\xC3\xA9", 4001), 7, out), errc::bad_length, "content"));
}

TEST(ReadRequest, ParsesAndRoundTrips) {
  read_request out;
  ASSERT_FALSE(parse_read_request(R"({"roomId":5,"lastReadMessageId":0})", out));
  EXPECT_EQ(out, (read_request{5, 0}));
  const read_request big{INT64_MAX, INT64_MAX};
  ASSERT_FALSE(parse_read_request(to_json(big), out));
  EXPECT_EQ(out, big);
  EXPECT_EQ(to_json(read_request{5, 6}), R"({"roomId":5,"lastReadMessageId":6})");
}

TEST(ReadRequest, Validates) {
  read_request out;
  EXPECT_TRUE(fails_with(parse_read_request(R"({"roomId":5,"lastReadMessageId":-1})", out), errc::out_of_range,
                         "lastReadMessageId"));
  EXPECT_TRUE(fails_with(parse_read_request(R"({"roomId":5,"lastReadMessageId":"1"})", out), errc::wrong_type,
                         "lastReadMessageId"));
  EXPECT_TRUE(fails_with(parse_read_request(R"({"roomId":5})", out), errc::missing_field, "lastReadMessageId"));
  EXPECT_TRUE(
      fails_with(parse_read_request(R"({"roomId":-5,"lastReadMessageId":1})", out), errc::out_of_range, "roomId"));
}

TEST(TypingRequest, ParsesAndRoundTrips) {
  typing_request out;
  ASSERT_FALSE(parse_typing_request(R"({"roomId":12})", out));
  EXPECT_EQ(out.room_id, 12);
  ASSERT_FALSE(parse_typing_request(to_json(typing_request{99}), out));
  EXPECT_EQ(out.room_id, 99);
  EXPECT_TRUE(fails_with(parse_typing_request(R"({"roomId":1.5})", out), errc::wrong_type, "roomId"));
  EXPECT_TRUE(fails_with(parse_typing_request(R"({})", out), errc::missing_field, "roomId"));
  EXPECT_TRUE(fails_with(parse_typing_request(R"(true)", out), errc::not_an_object, ""));
}

// U+0000 is valid UTF-8 and JSON ("\u0000") but PostgreSQL text cannot store it: refused
// where the message enters, not dead-lettered after a RECEIPT.
TEST(send_request, content_with_a_nul_character_is_refused) {
  send_request out;
  EXPECT_TRUE(
      fails_with(parse_send_request(R"({"roomId":5,"content":"a\u0000b"})", out), errc::bad_characters, "content"));
  EXPECT_TRUE(fails_with(parse_room_send_body(std::string_view("a\0b", 3), 5, out), errc::bad_characters, "content"));
}
