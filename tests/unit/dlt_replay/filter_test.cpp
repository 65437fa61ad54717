#include "core/filter.hpp"

#include <gtest/gtest.h>

#include "fixtures.hpp"

namespace dlt_replay {
namespace {

using test::chat_dead_letter;

TEST(offset_range, forms) {
  EXPECT_EQ(parse_offset_range("10-20"), (offset_range{10, 20}));
  EXPECT_EQ(parse_offset_range("10-"), (offset_range{10, std::numeric_limits<std::int64_t>::max()}));
  EXPECT_EQ(parse_offset_range("-20"), (offset_range{0, 20}));
  EXPECT_EQ(parse_offset_range("7"), (offset_range{7, 7}));
  EXPECT_EQ(parse_offset_range("0-0"), (offset_range{0, 0}));
  for (const char* bad : {"", "-", "20-10", "a-b", "1-2-3", "1 -2", "--1", "-1-5", "1.5"}) {
    EXPECT_EQ(parse_offset_range(bad), std::nullopt) << bad;
  }
  const offset_range r{10, 20};
  EXPECT_TRUE(r.contains(10));
  EXPECT_TRUE(r.contains(20));
  EXPECT_FALSE(r.contains(9));
  EXPECT_FALSE(r.contains(21));
}

TEST(partition_offset, forms) {
  const auto p = parse_partition_offset("3:1234");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->partition, 3);
  EXPECT_EQ(p->offset, 1234);
  for (const char* bad : {"", "3", "3:", ":4", "a:1", "1:b", "-1:3", "3:-1", "99999999999:1"}) {
    EXPECT_FALSE(parse_partition_offset(bad)) << bad;
  }
}

TEST(time_bound, forms) {
  const std::int64_t now = 1763726400000;  // 2025-11-21T12:00:00Z
  EXPECT_EQ(parse_time_bound("now", now), now);
  EXPECT_EQ(parse_time_bound("90m", now), now - 90 * 60'000);
  EXPECT_EQ(parse_time_bound("2h", now), now - 2 * 3'600'000);
  EXPECT_EQ(parse_time_bound("1d", now), now - 86'400'000);
  EXPECT_EQ(parse_time_bound("1w", now), now - 7 * 86'400'000LL);
  EXPECT_EQ(parse_time_bound("1h30m", now), now - 90 * 60'000);
  EXPECT_EQ(parse_time_bound("45s", now), now - 45'000);
  EXPECT_EQ(parse_time_bound("2025-11-21T12:00:00Z", now), now);
  EXPECT_EQ(parse_time_bound("2025-11-21T14:00:00+02:00", now), now);
  EXPECT_EQ(parse_time_bound("2025-11-21T12:00:00", now), now);
  EXPECT_EQ(parse_time_bound("2025-11-21 12:00", now), now);
  EXPECT_EQ(parse_time_bound("2025-11-21", now), now - 12 * 3'600'000);
  EXPECT_EQ(parse_time_bound("1763726400000", now), now);
  for (const char* bad : {"", "yesterday", "5x", "h", "2025-13-01", "1h-", "-5m"}) {
    EXPECT_EQ(parse_time_bound(bad, now), std::nullopt) << bad;
  }
}

TEST(error_matcher, substring_ignores_case) {
  std::string why;
  const auto m = error_matcher::parse("UNEXPECTED END", why);
  ASSERT_TRUE(m);
  EXPECT_TRUE(m->matches(chat_dead_letter().info));
  EXPECT_TRUE(error_matcher::parse("invalid_json", why)->matches(chat_dead_letter().info));
  EXPECT_FALSE(error_matcher::parse("unknown_room", why)->matches(chat_dead_letter().info));
}

TEST(error_matcher, regex_between_slashes) {
  std::string why;
  EXPECT_TRUE(error_matcher::parse("/^invalid_(json|schema):/", why)->matches(chat_dead_letter().info));
  EXPECT_FALSE(error_matcher::parse("/^INVALID/", why)->matches(chat_dead_letter().info));
  EXPECT_TRUE(error_matcher::parse("/^INVALID/i", why)->matches(chat_dead_letter().info));
  EXPECT_FALSE(error_matcher::parse("/(unclosed/", why));
  EXPECT_NE(why.find("bad regular expression"), std::string::npos);
  // A lone slash is text.
  EXPECT_FALSE(error_matcher::parse("/", why)->matches(chat_dead_letter().info));
}

TEST(filter, empty_matches_everything) {
  filter f;
  EXPECT_TRUE(f.empty());
  EXPECT_TRUE(f.matches(chat_dead_letter()));
  dead_letter bare;
  EXPECT_TRUE(f.matches(bare));
}

TEST(filter, time_uses_failed_at_then_the_record_timestamp) {
  filter f;
  f.since_ms = 1763726460000;  // failed-at of the fixture
  EXPECT_TRUE(f.matches(chat_dead_letter()));
  f.since_ms = 1763726460001;
  EXPECT_FALSE(f.matches(chat_dead_letter()));
  f.since_ms.reset();
  f.until_ms = 1763726460000;  // exclusive
  EXPECT_FALSE(f.matches(chat_dead_letter()));
  f.until_ms = 1763726460001;
  EXPECT_TRUE(f.matches(chat_dead_letter()));

  dead_letter no_header;
  no_header.timestamp_ms = 5000;
  f = filter{};
  f.since_ms = 4000;
  f.until_ms = 6000;
  EXPECT_TRUE(f.matches(no_header));
  no_header.timestamp_ms = -1;
  EXPECT_FALSE(f.matches(no_header));  // no time at all: a time filter cannot match
}

TEST(filter, origin_criteria) {
  filter f;
  f.origin_partition = 3;
  EXPECT_TRUE(f.matches(chat_dead_letter()));
  f.origin_partition = 2;
  EXPECT_FALSE(f.matches(chat_dead_letter()));
  f = filter{};
  f.origin_offsets = offset_range{1000, 1234};
  EXPECT_TRUE(f.matches(chat_dead_letter()));
  f.origin_offsets = offset_range{1235, 2000};
  EXPECT_FALSE(f.matches(chat_dead_letter()));
  f = filter{};
  f.origin_topic = "chat.messages";
  EXPECT_TRUE(f.matches(chat_dead_letter()));
  f.origin_topic = "chat.read-receipts";
  EXPECT_FALSE(f.matches(chat_dead_letter()));
  f = filter{};
  f.consumer_group = "chat-persistence";
  EXPECT_TRUE(f.matches(chat_dead_letter()));
  f.consumer_group = "chat-broadcast";
  EXPECT_FALSE(f.matches(chat_dead_letter()));
}

TEST(filter, room_from_key_or_payload) {
  filter f;
  f.room = "42";
  EXPECT_TRUE(f.matches(chat_dead_letter()));  // key 42
  auto d = chat_dead_letter(R"({"roomId":77,"content":"x"})");
  d.key = "something-else";
  f.room = "77";
  EXPECT_TRUE(f.matches(d));  // payload
  f.room = "42";
  EXPECT_FALSE(f.matches(d));
  d.value = "{not json";
  f.room = "77";
  EXPECT_FALSE(f.matches(d));
  d.value = R"({"roomId":"77"})";
  EXPECT_TRUE(f.matches(d));
}

TEST(filter, criteria_combine_with_and) {
  filter f;
  std::string why;
  f.error = error_matcher::parse("invalid_json", why);
  f.origin_partition = 3;
  f.room = "42";
  EXPECT_TRUE(f.matches(chat_dead_letter()));
  f.room = "43";
  EXPECT_FALSE(f.matches(chat_dead_letter()));
}

TEST(dead_letter, room_and_time) {
  auto d = chat_dead_letter(R"({"roomId":99})");
  EXPECT_EQ(d.room(), "42");  // the key wins when it is a room id
  d.key.reset();
  EXPECT_EQ(d.room(), "99");
  d.value = "nope";
  EXPECT_EQ(d.room(), std::nullopt);
  EXPECT_EQ(d.time_ms(), 1763726460000);
  d.info.failed_at_ms.reset();
  EXPECT_EQ(d.time_ms(), 1763726460500);
}

}  // namespace
}  // namespace dlt_replay
