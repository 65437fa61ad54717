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
  void issue_all(std::uint64_t n = 8) {
    for (std::uint64_t g = 0; g < n; ++g) l.mark_issued(g);
  }
};

TEST_F(LedgerTest, AllDeliveredInOrder) {
  issue_all();
  for (std::uint64_t g = 0; g < 8; ++g)
    for (std::uint32_t r = 0; r < 2; ++r) EXPECT_EQ(l.deliver(g, r), delivery::first);
  const auto t = l.summarize();
  EXPECT_EQ(t.expected, 16u);
  EXPECT_EQ(t.delivered, 16u);
  EXPECT_EQ(t.lost + t.duplicated + t.reordered, 0u);
}

TEST_F(LedgerTest, LostDuplicatedReordered) {
  issue_all();
  // Sender slot of g is g % 2; its sequence g / 2. Receiver 0 gets 0 1 2 3 4 5 6 7 with 3 twice;
  // receiver 1 misses 5 and gets sender 0's seq 1 (g=2) after its seq 2 (g=4).
  for (std::uint64_t g : {0, 1, 2, 3, 3, 4, 5, 6, 7}) l.deliver(g, 0);
  EXPECT_EQ(l.deliver(0, 1), delivery::first);
  EXPECT_EQ(l.deliver(4, 1), delivery::first);
  EXPECT_EQ(l.deliver(2, 1), delivery::reordered);
  EXPECT_EQ(l.deliver(2, 1), delivery::duplicate);
  for (std::uint64_t g : {1, 3, 6, 7}) l.deliver(g, 1);
  const auto t = l.summarize();
  EXPECT_EQ(t.lost, 1u);
  EXPECT_EQ(t.duplicated, 2u);
  EXPECT_EQ(t.reordered, 1u);
  EXPECT_EQ(t.delivered, 15u);
}

TEST_F(LedgerTest, SendsNotIssuedAreNotExpected) {
  issue_all(7);
  for (std::uint64_t g = 0; g < 7; ++g)
    for (std::uint32_t r = 0; r < 2; ++r) l.deliver(g, r);
  const auto t = l.summarize();
  EXPECT_EQ(t.expected, 14u);
  EXPECT_EQ(t.lost, 0u);
}

TEST_F(LedgerTest, AnswersFirstCountsLaterOnesAreKeptOut) {
  l.mark_issued(0);
  l.mark_issued(1);
  EXPECT_EQ(l.record_answer(0, send_outcome::receipted), send_outcome::pending);
  // A second answer (an ERROR after the RECEIPT) does not change the first.
  EXPECT_EQ(l.record_answer(0, send_outcome::overloaded), send_outcome::receipted);
  EXPECT_EQ(l.record_answer(1, send_outcome::rate_limited), send_outcome::pending);
  // An answer to a send that was never issued is not recorded.
  EXPECT_EQ(l.record_answer(5, send_outcome::receipted), send_outcome::unsent);
  const auto t = l.summarize();
  EXPECT_EQ(t.count(send_outcome::receipted), 1u);
  EXPECT_EQ(t.count(send_outcome::rate_limited), 1u);
  EXPECT_EQ(t.count(send_outcome::overloaded), 0u);
  EXPECT_EQ(t.count(send_outcome::pending), 0u);
  EXPECT_EQ(t.count(send_outcome::unsent), 0u);  // unsent sends are not counted at all
  EXPECT_EQ(t.expected, 4u);                     // two issued sends x two receivers
}

TEST_F(LedgerTest, UnansweredSendsAreThoseWithoutAnyAnswer) {
  issue_all();
  for (std::uint64_t g : {0, 2, 4}) l.record_answer(g, send_outcome::receipted);
  l.record_answer(3, send_outcome::not_accepted);
  l.record_answer(6, send_outcome::other_error);
  const auto t = l.summarize();
  EXPECT_EQ(t.count(send_outcome::pending), 3u);  // 1, 5 and 7
  EXPECT_EQ(t.count(send_outcome::receipted), 3u);
  EXPECT_EQ(t.count(send_outcome::not_accepted), 1u);
  EXPECT_EQ(t.count(send_outcome::other_error), 1u);
}

TEST_F(LedgerTest, LossDuplicatesAndReorderingAmongReceiptedSends) {
  issue_all();
  // Receipted: 0 1 2 4 6. Refused: 3 (but delivered anyway), 5 (not delivered). 7 unanswered.
  for (std::uint64_t g : {0, 1, 2, 4, 6}) l.record_answer(g, send_outcome::receipted);
  l.record_answer(3, send_outcome::not_accepted);
  l.record_answer(5, send_outcome::overloaded);
  // Sender slot of g is g % 2, its sequence g / 2. Receiver 0: everything but 5 and 7, with 0
  // twice and 4 before 2 (2 is reordered). Receiver 1: misses 6, gets 3 after 1 in order.
  for (std::uint64_t g : {0, 0, 1, 4, 2, 3, 6}) l.deliver(g, 0);
  for (std::uint64_t g : {0, 1, 2, 3, 4}) l.deliver(g, 1);
  const auto t = l.summarize();
  EXPECT_EQ(t.receipted_expected, 10u);
  EXPECT_EQ(t.receipted_delivered, 9u);
  EXPECT_EQ(t.receipted_lost, 1u);  // 6 at receiver 1
  EXPECT_EQ(t.receipted_duplicated, 1u);
  EXPECT_EQ(t.receipted_reordered, 1u);
  EXPECT_EQ(t.refused_but_delivered, 1u);  // 3
  // The all-sends figures include the unreceipted ones.
  EXPECT_EQ(t.lost, 5u);  // receiver 0: 5 and 7; receiver 1: 5, 6 and 7
}

TEST_F(LedgerTest, AReorderedRefusedSendDoesNotCountAmongReceipted) {
  issue_all(4);
  l.record_answer(0, send_outcome::not_accepted);  // timed out, stored later, delivered late
  for (std::uint64_t g : {1, 2, 3}) l.record_answer(g, send_outcome::receipted);
  for (std::uint64_t g : {2, 0, 1, 3}) l.deliver(g, 0);  // 0 (sender 0, seq 0) after 2 (seq 1)
  const auto t = l.summarize();
  EXPECT_EQ(t.reordered, 1u);
  EXPECT_EQ(t.receipted_reordered, 0u);
  EXPECT_EQ(t.refused_but_delivered, 1u);
}

TEST(SendOutcome, RefusalsAreClassifiedByTheirMessageOrCode) {
  EXPECT_EQ(classify_refusal("rate_limited"), send_outcome::rate_limited);
  EXPECT_EQ(classify_refusal("rate limit exceeded"), send_outcome::rate_limited);
  EXPECT_EQ(classify_refusal("server overloaded"), send_outcome::overloaded);
  EXPECT_EQ(classify_refusal("rate limited"), send_outcome::rate_limited);
  EXPECT_EQ(classify_refusal("overloaded"), send_outcome::overloaded);
  EXPECT_EQ(classify_refusal("message not accepted"), send_outcome::not_accepted);
  EXPECT_EQ(classify_refusal("not_accepted"), send_outcome::not_accepted);
  EXPECT_EQ(classify_refusal("shutting_down"), send_outcome::other_error);
  EXPECT_EQ(classify_refusal("send timed out; the message may still be stored"), send_outcome::not_accepted);
  EXPECT_EQ(classify_refusal("validation_error"), send_outcome::other_error);
  EXPECT_EQ(classify_refusal("forbidden"), send_outcome::other_error);
  EXPECT_STREQ(to_string(send_outcome::pending), "unanswered");
}

TEST(Plan, RampGrowsTheRateLinearly) {
  // 100/s after a 2 s ramp: 100 sends during the ramp (rate*ramp/2), the k-th at sqrt(2*ramp*k/rate).
  const plan p{10, 2, 5, 100, 2.0};
  EXPECT_EQ(p.planned_offset_ns(0), 0);
  EXPECT_NEAR(static_cast<double>(p.planned_offset_ns(25)), 1e9,
              1e3);  // a quarter of the ramp's sends at half its time
  EXPECT_NEAR(static_cast<double>(p.planned_offset_ns(100)), 2e9, 1e3);  // the ramp's end
  EXPECT_NEAR(static_cast<double>(p.planned_offset_ns(200)), 3e9, 1e3);  // then 100/s
  EXPECT_EQ(p.sends_in(1.0), 25u);
  EXPECT_EQ(p.sends_in(2.0), 100u);
  EXPECT_EQ(p.sends_in(12.0), 1100u);
  // Gaps shrink during the ramp and are 10 ms after it.
  EXPECT_GT(p.planned_offset_ns(2) - p.planned_offset_ns(1), p.planned_offset_ns(51) - p.planned_offset_ns(50));
  EXPECT_NEAR(static_cast<double>(p.planned_offset_ns(301) - p.planned_offset_ns(300)), 1e7, 1e3);
  // Without a ramp: g / rate, and every g before `seconds` is counted.
  const plan flat{10, 2, 5, 50};
  EXPECT_EQ(flat.sends_in(5.0), 250u);
  EXPECT_EQ(flat.sends_in(0.05), 3u);  // 0, 20 and 40 ms
}

TEST(Plan, SequenceIdentityRoundTrips) {
  const plan p{10, 3, 4, 1};
  for (std::uint32_t r = 0; r < 3; ++r)
    for (std::uint32_t s = 0; s < 4; ++s)
      for (std::uint64_t q : {0u, 1u, 77u}) {
        const auto g = p.g_of(r, s, q);
        EXPECT_EQ(p.room_of(g), r);
        EXPECT_EQ(p.sender_slot_of(g), s);
        EXPECT_EQ(p.seq_of(g), q);
      }
}

TEST(Payload, RoundTripInsideJsonAndPadding) {
  const std::uint64_t nonce = 0x0fedcba98765432ULL;
  std::string out;
  encode_payload(out, nonce, 0xabcdef, 1'234'567'890, 100);
  EXPECT_EQ(out.size(), 100u);
  EXPECT_TRUE(out.starts_with("CL1.0fedcba98765432.abcdef.1234567890."));
  const std::string chatd_body = R"({"id":5,"content":")" + out + R"(","senderNickname":"CL1.x"})";
  const auto id = find_payload(chatd_body, nonce);
  ASSERT_TRUE(id);
  EXPECT_EQ(id->g, 0xabcdefu);
  EXPECT_EQ(id->planned_offset_ns, 1'234'567'890);
  // Never truncated: a tiny size still carries the identity.
  encode_payload(out, nonce, 1, -5, 4);
  EXPECT_EQ(find_payload(out, nonce)->planned_offset_ns, -5);
  bool foreign = false;
  EXPECT_FALSE(find_payload(out, nonce + 1, &foreign));
  EXPECT_TRUE(foreign);
  foreign = false;
  EXPECT_FALSE(find_payload("hello", nonce, &foreign));
  EXPECT_FALSE(foreign);
  EXPECT_FALSE(find_payload("CL1.0fedcba98765432.zz.1.", nonce));
}

TEST(Ledger, GrowsInChunksBeyondTheFirst) {
  const plan p{4, 1, 2, 10};
  ledger l{p, ledger::chunk_sends * 3};
  const std::uint64_t far = ledger::chunk_sends * 2 + 5;
  l.mark_issued(3);
  l.mark_issued(far);
  EXPECT_EQ(l.deliver(far, 0), delivery::first);
  EXPECT_EQ(l.deliver(far, 0), delivery::duplicate);
  EXPECT_EQ(l.deliver(3, 0), delivery::reordered);  // same sender (slot 1), lower sequence
  const auto t = l.summarize();
  EXPECT_EQ(t.expected, 4u);
  EXPECT_EQ(t.delivered, 2u);
  EXPECT_EQ(t.lost, 2u);
  EXPECT_EQ(t.duplicated, 1u);
}
