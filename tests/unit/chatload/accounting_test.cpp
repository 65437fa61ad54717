#include "accounting.hpp"

#include <gtest/gtest.h>

#include <set>

using namespace chatload;

TEST(Plan, SpreadsOverRoomsAndSenders) {
  const plan p{10, 4, 5, 100};
  std::set<std::pair<std::uint32_t, std::uint32_t>> seen;
  for (std::uint64_t g = 0; g < 20; ++g) seen.insert({p.room_of(g), p.sender_slot_of(g)});
  EXPECT_EQ(seen.size(), 20u);  // the first R*M sends cover every (room, sender) once
  EXPECT_EQ(p.seq_of(19), 0u);
  EXPECT_EQ(p.seq_of(20), 1u);
  EXPECT_EQ(p.planned_offset_ns(100), 1'000'000'000);
  EXPECT_EQ(p.user_of(1, 0), 5u);
  EXPECT_EQ(p.user_of(2, 0), 0u);  // wraps around the users
}

TEST(MessageKey, RoundTripAndForeignRuns) {
  const std::uint64_t nonce = 0x0123456789abcdeULL;
  const auto key = message_key(nonce, 123456789);
  EXPECT_EQ(key.size(), 36u);
  EXPECT_EQ(key[14], '4');
  EXPECT_EQ(key[19], '8');
  EXPECT_EQ(parse_message_key(key, nonce), 123456789u);
  EXPECT_FALSE(parse_message_key(key, nonce + 1));
  EXPECT_FALSE(parse_message_key("not-a-key", nonce));
}

class LedgerTest : public ::testing::Test {
 protected:
  plan p{4, 1, 2, 10};  // one room, two members: every send has two receivers
  ledger l{p, 8};
  std::vector<std::uint8_t> issued = std::vector<std::uint8_t>(8, 1);
};

TEST_F(LedgerTest, AllDeliveredInOrder) {
  for (std::uint64_t g = 0; g < 8; ++g)
    for (std::uint32_t r = 0; r < 2; ++r) EXPECT_EQ(l.deliver(g, r), delivery::first);
  const auto t = l.summarize(issued);
  EXPECT_EQ(t.expected, 16u);
  EXPECT_EQ(t.delivered, 16u);
  EXPECT_EQ(t.lost + t.duplicated + t.reordered, 0u);
}

TEST_F(LedgerTest, LostDuplicatedReordered) {
  // Sender slot of g is g % 2; its sequence g / 2. Receiver 0 gets 0 1 2 3 4 5 6 7 with 3 twice;
  // receiver 1 misses 5 and gets sender 0's seq 1 (g=2) after its seq 2 (g=4).
  for (std::uint64_t g : {0, 1, 2, 3, 3, 4, 5, 6, 7}) l.deliver(g, 0);
  EXPECT_EQ(l.deliver(0, 1), delivery::first);
  EXPECT_EQ(l.deliver(4, 1), delivery::first);
  EXPECT_EQ(l.deliver(2, 1), delivery::reordered);
  EXPECT_EQ(l.deliver(2, 1), delivery::duplicate);
  for (std::uint64_t g : {1, 3, 6, 7}) l.deliver(g, 1);
  const auto t = l.summarize(issued);
  EXPECT_EQ(t.lost, 1u);
  EXPECT_EQ(t.duplicated, 2u);
  EXPECT_EQ(t.reordered, 1u);
  EXPECT_EQ(t.delivered, 15u);
}

TEST_F(LedgerTest, SendsNotIssuedAreNotExpected) {
  issued[7] = 0;
  for (std::uint64_t g = 0; g < 7; ++g)
    for (std::uint32_t r = 0; r < 2; ++r) l.deliver(g, r);
  const auto t = l.summarize(issued);
  EXPECT_EQ(t.expected, 14u);
  EXPECT_EQ(t.lost, 0u);
}
