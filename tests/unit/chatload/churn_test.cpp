// --churn: the option's value, the drop schedule, what a room MESSAGE tells the resume cursor,
// and the ledger's verdicts across a reconnect (replayed overlap = duplicate, a gap = lost).
#include "accounting.hpp"
#include "churn.hpp"

#include <gtest/gtest.h>

#include <map>

using namespace chatload;
using chat::stomp::command;
using chat::stomp::frame;

namespace {

frame room_message(std::vector<chat::stomp::header> headers) {
  frame f;
  f.cmd = command::message;
  f.headers = std::move(headers);
  return f;
}

}  // namespace

TEST(Churn, ParsesPerSecondOrAPercentageOfTheUsers) {
  std::string why;
  EXPECT_EQ(parse_churn("50", 1000, why), 50.0);
  EXPECT_EQ(parse_churn("5%", 1000, why), 50.0);
  EXPECT_EQ(parse_churn("0.5", 10, why), 0.5);
  EXPECT_EQ(parse_churn("100%", 7, why), 7.0);
  for (const char* bad : {"", "0", "-1", "abc", "5%%", "150%", "1e9", "nan", "5 ", "%"}) {
    why.clear();
    EXPECT_FALSE(parse_churn(bad, 1000, why)) << bad;
    EXPECT_FALSE(why.empty()) << bad;
  }
  EXPECT_FALSE(parse_churn("5%", 0, why));  // no session to drop
}

TEST(Churn, DropsAreSpreadEvenlyOverTimeAndSessions) {
  const churn_schedule s{50};
  EXPECT_EQ(s.due_offset_ns(0), 0);
  EXPECT_EQ(s.due_offset_ns(1), 20'000'000);
  EXPECT_EQ(s.due_offset_ns(50), 1'000'000'000);
  std::map<std::uint32_t, int> hits;
  for (std::uint64_t i = 0; i < 10000; ++i) {
    const auto v = churn_schedule::victim(i, 100);
    ASSERT_LT(v, 100u);
    ++hits[v];
  }
  EXPECT_EQ(hits.size(), 100u);  // every session drops some time
  for (const auto& [session, n] : hits) {
    EXPECT_GT(n, 50) << session;
    EXPECT_LT(n, 150) << session;
  }
  EXPECT_EQ(churn_schedule::victim(7, 100), churn_schedule::victim(7, 100));  // the same every run
  EXPECT_NE(churn_schedule::victim(0, 1000), churn_schedule::victim(1, 1000));
}

TEST(Churn, OnlyRoomEventsMoveTheCursor) {
  std::int64_t id = -1;
  EXPECT_EQ(classify_room_frame(room_message({{"message-id", "1099511627781"}, {"chat-event", "message"}}), id),
            room_frame::event);
  EXPECT_EQ(id, 1099511627781);
  EXPECT_EQ(classify_room_frame(room_message({{"message-id", "0"}, {"chat-event", "message.edited"}}), id),
            room_frame::event);
  EXPECT_EQ(id, 0);  // id 0 is a real id
  id = -1;
  EXPECT_EQ(classify_room_frame(room_message({{"message-id", "r4-7-12"}, {"chat-event", "read"}}), id),
            room_frame::read_mark);
  EXPECT_EQ(classify_room_frame(room_message({{"message-id", "t4-13"}, {"chat-event", "recovery.truncated"}}), id),
            room_frame::truncated);
  for (const char* other : {"", "e3", "12a", "-5", "99999999999999999999"})
    EXPECT_EQ(classify_room_frame(room_message({{"message-id", other}}), id), room_frame::other) << other;
  EXPECT_EQ(classify_room_frame(room_message({}), id), room_frame::other);
  EXPECT_EQ(id, -1);

  event_cursor cursor;
  EXPECT_FALSE(cursor.known());
  cursor.seen(5);
  cursor.seen(3);  // never backwards
  EXPECT_TRUE(cursor.known());
  EXPECT_EQ(cursor.since_id(), 5);
  cursor.seen(9);
  EXPECT_EQ(cursor.since_id(), 9);
  event_cursor zero;
  zero.seen(0);
  EXPECT_TRUE(zero.known());
  EXPECT_EQ(zero.since_id(), 0);
}

// One receiver reconnects in the middle of a room's stream. The ledger counts per receiver
// slot, not per connection: what the resubscription replays again is a duplicate, what it does
// not replay is lost, an event older than one already seen is reordered.
TEST(Churn, TheLedgerCountsAcrossReconnects) {
  const plan p{4, 1, 2, 10};  // one room, two members; sends alternate between the two senders
  const auto run = [&p](std::vector<std::uint64_t> first_connection, std::vector<std::uint64_t> after_reconnect) {
    ledger l{p, 8};
    for (std::uint64_t g = 0; g < 8; ++g) l.mark_issued(g);
    for (std::uint64_t g = 0; g < 8; ++g) l.deliver(g, 1, static_cast<std::int64_t>(100 + g));  // receiver 1 stays
    event_cursor cursor;
    for (const auto g : first_connection) {
      cursor.seen(static_cast<std::int64_t>(100 + g));
      l.deliver(g, 0, static_cast<std::int64_t>(100 + g));
    }
    EXPECT_EQ(cursor.since_id(), static_cast<std::int64_t>(100 + first_connection.back()));
    for (const auto g : after_reconnect) l.deliver(g, 0, static_cast<std::int64_t>(100 + g));
    return l.summarize();
  };
  // since-id replays exactly what came after: every event once, in order.
  auto t = run({0, 1, 2}, {3, 4, 5, 6, 7});
  EXPECT_EQ(t.delivered, 16u);
  EXPECT_EQ(t.lost + t.duplicated + t.reordered, 0u);
  // A replay that repeats the last event before the drop: one duplicate.
  t = run({0, 1, 2}, {2, 3, 4, 5, 6, 7});
  EXPECT_EQ(t.duplicated, 1u);
  EXPECT_EQ(t.lost + t.reordered, 0u);
  // A gap at the seam (4 neither replayed nor live): lost.
  t = run({0, 1, 2, 3}, {5, 6, 7});
  EXPECT_EQ(t.lost, 1u);
  EXPECT_EQ(t.duplicated + t.reordered, 0u);
  // Live events delivered before the replayed ones: the replayed come out of order.
  t = run({0, 1}, {5, 2, 3, 4, 6, 7});
  EXPECT_EQ(t.lost, 0u);
  EXPECT_EQ(t.reordered, 3u);
}
