#include <chat/proto/events.hpp>

#include "test_support.hpp"

using namespace chat::proto;
using chat::proto::test::fails_with;
using chat::proto::test::hostile_strings;
using chat::proto::test::reparse;

namespace {
constexpr std::int64_t at = 1'795'262'400'123;  // 2026-11-21T12:00:00.123Z
}

TEST(ReadReceipt, SerializesAndRoundTrips) {
  const read_receipt receipt{42, 7, 1'099'511'627'776, at};
  EXPECT_EQ(to_json(receipt),
            R"({"roomId":42,"userId":7,"lastReadMessageId":1099511627776,"at":"2026-11-21T12:00:00.123Z"})");
  read_receipt back;
  ASSERT_FALSE(parse_read_receipt(to_json(receipt), back));
  EXPECT_EQ(back, receipt);
  const read_receipt zero{1, 1, 0, 0};
  ASSERT_FALSE(parse_read_receipt(to_json(zero), back));
  EXPECT_EQ(back, zero);
}

TEST(ReadReceipt, Validates) {
  read_receipt out;
  EXPECT_TRUE(fails_with(parse_read_receipt(R"({"roomId":42,"userId":7,"lastReadMessageId":5})", out),
                         errc::missing_field, "at"));
  EXPECT_TRUE(fails_with(
      parse_read_receipt(R"({"roomId":42,"userId":0,"lastReadMessageId":5,"at":"2026-11-21T12:00:00.123Z"})", out),
      errc::out_of_range, "userId"));
  EXPECT_TRUE(fails_with(
      parse_read_receipt(R"({"roomId":42,"userId":7,"lastReadMessageId":-5,"at":"2026-11-21T12:00:00.123Z"})", out),
      errc::out_of_range, "lastReadMessageId"));
  EXPECT_TRUE(fails_with(parse_read_receipt(R"({"roomId":42,"userId":7,"lastReadMessageId":5,"at":12})", out),
                         errc::wrong_type, "at"));
  EXPECT_TRUE(fails_with(parse_read_receipt("garbage", out), errc::invalid_json, ""));
}

TEST(PresenceEvent, SerializesAndRoundTrips) {
  const presence_event online{7, presence_status::online, at};
  EXPECT_EQ(to_json(online), R"({"userId":7,"status":"ONLINE","at":"2026-11-21T12:00:00.123Z"})");
  const presence_event offline{INT64_MAX, presence_status::offline, 0};
  EXPECT_EQ(to_json(offline), R"({"userId":9223372036854775807,"status":"OFFLINE","at":"1970-01-01T00:00:00.000Z"})");
  for (const presence_event& event : {online, offline}) {
    presence_event back;
    ASSERT_FALSE(parse_presence_event(to_json(event), back));
    EXPECT_EQ(back, event);
  }
}

TEST(PresenceEvent, Validates) {
  presence_event out;
  EXPECT_TRUE(fails_with(parse_presence_event(R"({"userId":7,"status":"AWAY","at":"2026-11-21T12:00:00Z"})", out),
                         errc::bad_format, "status"));
  EXPECT_TRUE(fails_with(parse_presence_event(R"({"userId":7,"status":"online","at":"2026-11-21T12:00:00Z"})", out),
                         errc::bad_format, "status"));
  EXPECT_TRUE(fails_with(parse_presence_event(R"({"userId":7,"status":true,"at":"2026-11-21T12:00:00Z"})", out),
                         errc::wrong_type, "status"));
  EXPECT_TRUE(fails_with(parse_presence_event(R"({"status":"ONLINE","at":"2026-11-21T12:00:00Z"})", out),
                         errc::missing_field, "userId"));
  EXPECT_EQ(parse_presence_status("OFFLINE"), presence_status::offline);
  EXPECT_EQ(to_string(presence_status::online), "ONLINE");
}

TEST(TypingEvent, SerializesAndRoundTrips) {
  const typing_event event{42, 7, "alice", at};
  EXPECT_EQ(to_json(event), R"({"roomId":42,"userId":7,"nickname":"alice","at":"2026-11-21T12:00:00.123Z"})");
  typing_event back;
  ASSERT_FALSE(parse_typing_event(to_json(event), back));
  EXPECT_EQ(back, event);
}

TEST(TypingEvent, HostileNicknamesSurvive) {
  for (const std::string& s : hostile_strings()) {
    const typing_event event{1, 2, s, at};
    const std::string json = to_json(event);
    EXPECT_EQ(reparse(json).at("nickname").get<std::string>(), s);
    typing_event back;
    ASSERT_FALSE(parse_typing_event(json, back));
    EXPECT_EQ(back, event);
  }
}

TEST(TypingEvent, Validates) {
  typing_event out;
  EXPECT_TRUE(
      fails_with(parse_typing_event(R"({"roomId":42,"userId":7,"nickname":5,"at":"2026-11-21T12:00:00Z"})", out),
                 errc::wrong_type, "nickname"));
  EXPECT_TRUE(fails_with(parse_typing_event(R"({"roomId":42,"userId":7,"at":"2026-11-21T12:00:00Z"})", out),
                         errc::missing_field, "nickname"));
}

TEST(MessageHiddenEvent, SerializesAndRoundTrips) {
  const message_hidden_event event{42, 1099511627781};
  EXPECT_EQ(to_json(event), R"({"event":"message.hidden","roomId":42,"messageId":1099511627781})");
  message_hidden_event back;
  ASSERT_FALSE(parse_message_hidden_event(to_json(event), back));
  EXPECT_EQ(back, event);
}

TEST(MessageHiddenEvent, Validates) {
  message_hidden_event out;
  EXPECT_TRUE(fails_with(parse_message_hidden_event(R"({"event":"message.shown","roomId":1,"messageId":2})", out),
                         errc::bad_format, "event"));
  EXPECT_TRUE(
      fails_with(parse_message_hidden_event(R"({"roomId":1,"messageId":2})", out), errc::missing_field, "event"));
  EXPECT_TRUE(fails_with(parse_message_hidden_event(R"({"event":"message.hidden","roomId":0,"messageId":2})", out),
                         errc::out_of_range, "roomId"));
  EXPECT_TRUE(fails_with(parse_message_hidden_event(R"({"event":"message.hidden","roomId":1})", out),
                         errc::missing_field, "messageId"));
}

TEST(ReadEvent, SerializesAndRoundTrips) {
  const read_event event{42, 7, 1'099'511'627'781};
  EXPECT_EQ(to_json(event), R"({"event":"read","roomId":42,"userId":7,"lastReadMessageId":1099511627781})");
  read_event back;
  ASSERT_FALSE(parse_read_event(to_json(event), back));
  EXPECT_EQ(back, event);
  EXPECT_TRUE(looks_like_read_event(to_json(event)));
  EXPECT_EQ(read_event_message_id(event), "r42-7-1099511627781");
  const read_event zero{1, 1, 0};
  ASSERT_FALSE(parse_read_event(to_json(zero), back));
  EXPECT_EQ(back, zero);
  // Readers ignore unknown members and member order.
  ASSERT_FALSE(parse_read_event(R"({"lastReadMessageId":3,"userId":2,"roomId":1,"event":"read","x":[1]})", back));
  EXPECT_EQ(back, (read_event{1, 2, 3}));
}

TEST(ReadEvent, RefusesMalformedInput) {
  read_event out{9, 9, 9};
  EXPECT_TRUE(fails_with(parse_read_event(R"({"event":"typing","roomId":1,"userId":2,"lastReadMessageId":3})", out),
                         errc::bad_format, "event"));
  EXPECT_TRUE(fails_with(parse_read_event(R"({"roomId":1,"userId":2,"lastReadMessageId":3})", out), errc::missing_field,
                         "event"));
  EXPECT_TRUE(fails_with(parse_read_event(R"({"event":"read","roomId":0,"userId":2,"lastReadMessageId":3})", out),
                         errc::out_of_range, "roomId"));
  EXPECT_TRUE(fails_with(parse_read_event(R"({"event":"read","roomId":1,"userId":-2,"lastReadMessageId":3})", out),
                         errc::out_of_range, "userId"));
  EXPECT_TRUE(fails_with(parse_read_event(R"({"event":"read","roomId":1,"userId":2,"lastReadMessageId":-1})", out),
                         errc::out_of_range, "lastReadMessageId"));
  EXPECT_TRUE(fails_with(parse_read_event(R"({"event":"read","roomId":1,"userId":2})", out), errc::missing_field,
                         "lastReadMessageId"));
  EXPECT_TRUE(fails_with(parse_read_event(R"({"event":"read","roomId":"1","userId":2,"lastReadMessageId":3})", out),
                         errc::wrong_type, "roomId"));
  EXPECT_TRUE(fails_with(parse_read_event(R"({"event":"read",)", out), errc::invalid_json, ""));
  EXPECT_TRUE(fails_with(parse_read_event("[]", out), errc::not_an_object, ""));
  EXPECT_EQ(out, (read_event{9, 9, 9}));  // untouched by a refusal
  // The prefix test: a chat message (id first) or another event is not taken for one.
  EXPECT_FALSE(looks_like_read_event(R"({"id":5,"event":"read","roomId":1})"));
  EXPECT_FALSE(looks_like_read_event(R"({"event":"reader","roomId":1})"));
  EXPECT_FALSE(looks_like_read_event(""));
}
