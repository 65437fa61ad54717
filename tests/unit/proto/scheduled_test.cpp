#include <chat/proto/scheduled.hpp>

#include "test_support.hpp"

using namespace chat::proto;
using chat::proto::test::fails_with;

namespace {

constexpr std::int64_t sched_noon = 1'795'262'400'000;  // 2026-11-21T12:00:00.000Z

TEST(ScheduleRequest, ParsesContentSendAtAndRepeat) {
  schedule_request r;
  ASSERT_FALSE(
      parse_schedule_request(R"({"content":"stand-up","sendAt":"2026-11-21T12:00:00Z","repeat":"weekly"})", r));
  EXPECT_EQ(r.content, "stand-up");
  EXPECT_EQ(r.send_at_ms, sched_noon);
  EXPECT_EQ(r.repeat, schedule_repeat::weekly);
  // An offset is converted to UTC; repeat absent or null: once.
  ASSERT_FALSE(parse_schedule_request(R"({"content":"x","sendAt":"2026-11-21T13:00:00.000+01:00"})", r));
  EXPECT_EQ(r.send_at_ms, sched_noon);
  EXPECT_EQ(r.repeat, schedule_repeat::once);
  ASSERT_FALSE(parse_schedule_request(R"({"content":"x","sendAt":"2026-11-21T12:00:00Z","repeat":null})", r));
  EXPECT_EQ(r.repeat, schedule_repeat::once);
}

TEST(ScheduleRequest, RefusesBadMembers) {
  schedule_request r;
  EXPECT_TRUE(
      fails_with(parse_schedule_request(R"({"sendAt":"2026-11-21T12:00:00Z"})", r), errc::missing_field, "content"));
  EXPECT_TRUE(fails_with(parse_schedule_request(R"({"content":"  ","sendAt":"2026-11-21T12:00:00Z"})", r),
                         errc::bad_length, "content"));
  EXPECT_TRUE(fails_with(parse_schedule_request(R"({"content":"x"})", r), errc::missing_field, "sendAt"));
  EXPECT_TRUE(
      fails_with(parse_schedule_request(R"({"content":"x","sendAt":1795262400000})", r), errc::wrong_type, "sendAt"));
  EXPECT_TRUE(
      fails_with(parse_schedule_request(R"({"content":"x","sendAt":"tomorrow"})", r), errc::bad_format, "sendAt"));
  EXPECT_TRUE(
      fails_with(parse_schedule_request(R"({"content":"x","sendAt":"2026-11-21T12:00:00Z","repeat":"hourly"})", r),
                 errc::bad_format, "repeat"));
  EXPECT_TRUE(
      fails_with(parse_schedule_request(R"({"content":"x","sendAt":"2026-11-21T12:00:00Z","repeat":"Daily"})", r),
                 errc::bad_format, "repeat"));
  EXPECT_TRUE(
      fails_with(parse_schedule_request(R"({"content":"12345","sendAt":"2026-11-21T12:00:00Z"})", r, /*max_content=*/4),
                 errc::bad_length, "content"));
  EXPECT_TRUE(parse_schedule_request("[]", r));
}

TEST(ScheduleRequest, TimeWindow) {
  EXPECT_FALSE(check_schedule_time(sched_noon, sched_noon));
  EXPECT_FALSE(check_schedule_time(sched_noon - schedule_past_grace_ms, sched_noon));
  EXPECT_TRUE(fails_with(check_schedule_time(sched_noon - schedule_past_grace_ms - 1, sched_noon), errc::out_of_range,
                         "sendAt"));
  EXPECT_FALSE(check_schedule_time(sched_noon + max_schedule_ahead_ms, sched_noon));
  EXPECT_TRUE(fails_with(check_schedule_time(sched_noon + max_schedule_ahead_ms + 1, sched_noon), errc::out_of_range,
                         "sendAt"));
}

TEST(ScheduleRequest, RoundTrips) {
  for (const auto repeat :
       {schedule_repeat::once, schedule_repeat::daily, schedule_repeat::weekly, schedule_repeat::monthly}) {
    const schedule_request r{"hello \"you\"", sched_noon + 123, repeat};
    schedule_request back;
    ASSERT_FALSE(parse_schedule_request(to_json(r), back)) << to_json(r);
    EXPECT_EQ(back, r);
  }
}

TEST(ScheduledMessage, SerializesTheDocumentedShapeAndRoundTrips) {
  scheduled_message s;
  s.id = 5;
  s.room_id = 42;
  s.author_id = 7;
  s.content = "hi";
  s.repeat = schedule_repeat::monthly;
  s.send_at_ms = sched_noon;
  s.first_send_at_ms = sched_noon - 1000;
  s.created_at_ms = sched_noon - 2000;
  EXPECT_EQ(to_json(s), R"({"id":5,"roomId":42,"authorId":7,"content":"hi","repeat":"monthly",)"
                        R"("sendAt":"2026-11-21T12:00:00.000Z","firstSendAt":"2026-11-21T11:59:59.000Z",)"
                        R"("createdAt":"2026-11-21T11:59:58.000Z"})");
  scheduled_message once = s;
  once.repeat = schedule_repeat::once;
  EXPECT_NE(to_json(once).find(R"("repeat":null)"), std::string::npos);
  std::string list;
  const std::vector<scheduled_message> both{s, once};
  append_json(std::span<const scheduled_message>(both), list);
  std::vector<scheduled_message> back;
  ASSERT_FALSE(parse_scheduled_message_list(list, back));
  EXPECT_EQ(back, both);
  EXPECT_TRUE(fails_with(parse_scheduled_message_list(R"([{"id":0}])", back), errc::out_of_range, "[0].id"));
}

}  // namespace
