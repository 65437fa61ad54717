#include "api/query.hpp"

#include <gtest/gtest.h>

#include <limits>
#include <string>
#include <utility>
#include <vector>

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

TEST(UserSearchQuery, TakesAPrefixOfTwoToHundredCharactersAndALimit) {
  user_search_query q;
  ASSERT_FALSE(parse_user_search_query("/api/users/search?q=an", q));
  EXPECT_EQ(q, (user_search_query{"an", 20}));
  ASSERT_FALSE(parse_user_search_query("/api/users/search?limit=50&q=%20Ann%20B%20", q));
  EXPECT_EQ(q, (user_search_query{"Ann B", 50}));                         // trimmed; the case is the store's business
  ASSERT_FALSE(parse_user_search_query("/x?q=%C3%A9%C3%A9&limit=1", q));  // two characters, four bytes
  EXPECT_EQ(q, (user_search_query{"\xC3\xA9\xC3\xA9", 1}));
  // LIKE's wildcards and escape are plain characters of the prefix (the store uses a range).
  ASSERT_FALSE(parse_user_search_query("/x?q=%25_%5C", q));
  EXPECT_EQ(q.q, "%_\\");
  ASSERT_FALSE(parse_user_search_query("/x?q=" + std::string(100, 'a') + "&limit=", q));
  EXPECT_EQ(q.q.size(), 100u);
  EXPECT_EQ(q.limit, 20);
}

TEST(UserSearchQuery, RefusesShortLongBrokenQueriesAndBadLimits) {
  const std::vector<std::pair<std::string, std::string>> bad{
      {"/x", "q"},
      {"/x?limit=5", "q"},
      {"/x?q=", "q"},
      {"/x?q=a", "q"},
      {"/x?q=%20a%20", "q"},
      {"/x?q=%C3%A9", "q"},
      {"/x?q=" + std::string(101, 'a'), "q"},
      {"/x?q=" + std::string(10 * 1024, 'a'), "q"},
      {"/x?q=a%0Ab", "q"},
      {"/x?q=%FF%FE", "q"},
      {"/x?q=%zz", "q"},
      {"/x?q=ab&limit=0", "limit"},
      {"/x?q=ab&limit=51", "limit"},
      {"/x?q=ab&limit=-1", "limit"},
      {"/x?q=ab&limit=ten", "limit"},
      {"/x?q=ab&limit=99999999999999999999", "limit"},
  };
  for (const auto& [target, field] : bad) {
    user_search_query q{"untouched", 7};
    const auto error = parse_user_search_query(target, q);
    ASSERT_TRUE(error) << target.substr(0, 60);
    EXPECT_EQ(error.field, field) << target.substr(0, 60);
    EXPECT_EQ(q, (user_search_query{"untouched", 7}));
  }
}

TEST(RequestDirection, IncomingByDefault) {
  bool incoming = false;
  ASSERT_FALSE(parse_request_direction("/api/friends/requests", incoming));
  EXPECT_TRUE(incoming);
  ASSERT_FALSE(parse_request_direction("/x?direction=outgoing", incoming));
  EXPECT_FALSE(incoming);
  ASSERT_FALSE(parse_request_direction("/x?direction=incoming", incoming));
  EXPECT_TRUE(incoming);
  for (const char* bad : {"/x?direction=in", "/x?direction=OUTGOING", "/x?direction=%zz"}) {
    const auto error = parse_request_direction(bad, incoming);
    ASSERT_TRUE(error) << bad;
    EXPECT_EQ(error.field, "direction");
  }
}
