#include "api/query.hpp"

#include <gtest/gtest.h>

#include <limits>
#include <string>

using namespace chat::chatd::api;

namespace {

std::optional<std::string> param(std::string_view target, std::string_view name) {
  std::optional<std::string> out;
  EXPECT_FALSE(query_param(target, name, out)) << target;
  return out;
}

chat::proto::validation_error history(std::string_view target, history_query& out) {
  return parse_history_query(target, out);
}

}  // namespace

TEST(PercentDecode, DecodesEscapesAndPlus) {
  EXPECT_EQ(percent_decode("a%40b.com"), "a@b.com");
  EXPECT_EQ(percent_decode("A%2bB"), "A+B");
  EXPECT_EQ(percent_decode("a+b"), "a b");
  EXPECT_EQ(percent_decode(""), "");
  EXPECT_EQ(percent_decode("%00"), std::string(1, '\0'));
  EXPECT_EQ(percent_decode("%FF"), std::string(1, '\xff'));
}

TEST(PercentDecode, RejectsTruncatedOrNonHexEscapes) {
  EXPECT_FALSE(percent_decode("%"));
  EXPECT_FALSE(percent_decode("%4"));
  EXPECT_FALSE(percent_decode("abc%4"));
  EXPECT_FALSE(percent_decode("%zz"));
  EXPECT_FALSE(percent_decode("%4g"));
}

TEST(QueryParam, FindsTheFirstOccurrence) {
  EXPECT_EQ(param("/api/users?email=a%40b.com", "email"), "a@b.com");
  EXPECT_EQ(param("/p?x=1&email=first&email=second", "email"), "first");
  EXPECT_EQ(param("/p?emailx=1&xemail=2", "email"), std::nullopt);
  EXPECT_EQ(param("/p", "email"), std::nullopt);
  EXPECT_EQ(param("/p?", "email"), std::nullopt);
  EXPECT_EQ(param("/p?email", "email"), "");
  EXPECT_EQ(param("/p?email=", "email"), "");
  EXPECT_EQ(param("/p?e%6dail=x", "email"), "x");  // the key is decoded too
  EXPECT_EQ(param("/p?a=1&&email=x#frag", "email"), "x");
}

TEST(QueryParam, ReportsABadEscapeInTheValue) {
  std::optional<std::string> out;
  const auto error = query_param("/p?email=%G1", "email", out);
  ASSERT_TRUE(error);
  EXPECT_EQ(error.field, "email");
  EXPECT_EQ(error.wire_code(), "validation_error");
  EXPECT_FALSE(out);
}

TEST(RoomId, AcceptsCanonicalPositiveIds) {
  std::int64_t id = 0;
  EXPECT_FALSE(parse_room_id("42", id));
  EXPECT_EQ(id, 42);
  EXPECT_FALSE(parse_room_id("9223372036854775807", id));
  EXPECT_EQ(id, std::numeric_limits<std::int64_t>::max());
  for (const char* bad : {"0", "-1", "01", "+1", "1.0", "abc", "", " 1", "1 ", "9223372036854775808", "1;DROP"}) {
    id = 7;
    EXPECT_TRUE(parse_room_id(bad, id)) << bad;
    EXPECT_EQ(id, 7) << "untouched on failure: " << bad;
  }
}

TEST(HistoryQuery, DefaultsToTheNewestPageOfTwenty) {
  history_query q;
  ASSERT_FALSE(history("/api/rooms/1/messages", q));
  EXPECT_EQ(q.before, std::numeric_limits<std::int64_t>::max());
  EXPECT_EQ(q.size, 20);
  ASSERT_FALSE(history("/api/rooms/1/messages?cursor=&size=", q));
  EXPECT_EQ(q, history_query{});
}

TEST(HistoryQuery, ParsesCursorAndSize) {
  history_query q;
  ASSERT_FALSE(history("/api/rooms/1/messages?cursor=1099511627776&size=100", q));
  EXPECT_EQ(q.before, 1099511627776);
  EXPECT_EQ(q.size, 100);
  ASSERT_FALSE(history("/x?size=1&cursor=0", q));  // id 0 is (partition 0, offset 0)
  EXPECT_EQ(q.before, 0);
  EXPECT_EQ(q.size, 1);
}

TEST(HistoryQuery, RejectsSizesOutsideOneToHundred) {
  for (const char* size : {"0", "101", "-1", "+5", "5x", "x", " 5", "1e2", "99999999999999999999", "2.5"}) {
    history_query q;
    const auto error = history(std::string("/x?size=") + size, q);
    ASSERT_TRUE(error) << size;
    EXPECT_EQ(error.field, "size");
    EXPECT_EQ(q, history_query{}) << "untouched on failure";
  }
}

TEST(HistoryQuery, RejectsMalformedCursors) {
  const std::string huge(10 * 1024, '9');
  const std::vector<std::string> cursors{"-1", "01", "abc", "1.5", "9223372036854775808", "1%27%20OR%201=1", "%", huge};
  for (const auto& cursor : cursors) {
    history_query q;
    const auto error = history("/x?cursor=" + cursor, q);
    ASSERT_TRUE(error) << cursor.substr(0, 40);
    EXPECT_EQ(error.field, "cursor");
  }
}
