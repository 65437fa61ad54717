// SENDs in flight to the message log: settled by the ack or expired by the deadline, once.
#include "gateway/publish_tracker.hpp"

#include <gtest/gtest.h>

using namespace std::chrono_literals;

namespace chat::gateway {
namespace {

const time_point tracker_t0 = time_point{} + 1000h;

TEST(publish_tracker, settle_returns_the_receipt_once) {
  publish_tracker p;
  p.add(1, tracker_t0 + 10s, "r1");
  p.add(2, tracker_t0 + 11s, std::nullopt);
  EXPECT_EQ(p.size(), 2u);
  auto s = p.settle(2);
  ASSERT_TRUE(s);
  EXPECT_FALSE(s->receipt);
  s = p.settle(1);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->receipt, "r1");
  EXPECT_FALSE(p.settle(1));
  EXPECT_TRUE(p.empty());
}

TEST(publish_tracker, the_oldest_expires_at_its_deadline) {
  publish_tracker p;
  p.add(1, tracker_t0 + 10s, "r1");
  p.add(2, tracker_t0 + 12s, "r2");
  EXPECT_EQ(p.next_deadline(), tracker_t0 + 10s);
  EXPECT_FALSE(p.take_expired(tracker_t0 + 10s - 1ms));
  auto e = p.take_expired(tracker_t0 + 10s);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->receipt, "r1");
  EXPECT_EQ(p.next_deadline(), tracker_t0 + 12s);
  EXPECT_FALSE(p.take_expired(tracker_t0 + 11s));
  // An ack after the timeout finds nothing: the ERROR went out already.
  EXPECT_FALSE(p.settle(1));
  e = p.take_expired(tracker_t0 + 20s);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->receipt, "r2");
  EXPECT_FALSE(p.next_deadline());
  EXPECT_FALSE(p.take_expired(tracker_t0 + 30s));
}

TEST(publish_tracker, settling_the_oldest_moves_the_next_deadline) {
  publish_tracker p;
  p.add(1, tracker_t0 + 10s, std::nullopt);
  p.add(2, tracker_t0 + 15s, std::nullopt);
  ASSERT_TRUE(p.settle(1));
  EXPECT_EQ(p.next_deadline(), tracker_t0 + 15s);
  EXPECT_FALSE(p.take_expired(tracker_t0 + 12s));
}

}  // namespace
}  // namespace chat::gateway
