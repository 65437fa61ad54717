// --mix: parsing, the deterministic draw by weight, the own-message window, the event bodies,
// and the ledger's counts by event kind and its room-order check by event id.
#include "accounting.hpp"
#include "mix.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

using namespace chatload;

TEST(Mix, ParsesWeights) {
  std::string why;
  const auto m = parse_mix("send=80,edit=5,delete=5,react=10", why);
  ASSERT_TRUE(m) << why;
  EXPECT_EQ(m->weights[0], 80u);
  EXPECT_EQ(m->weights[1], 5u);
  EXPECT_EQ(m->weights[2], 5u);
  EXPECT_EQ(m->weights[3], 10u);
  EXPECT_EQ(m->total(), 100u);
  EXPECT_FALSE(m->send_only());
  EXPECT_EQ(m->text(), "send=80,edit=5,delete=5,react=10");
  const auto only_react = parse_mix("react=1", why);
  ASSERT_TRUE(only_react);
  EXPECT_EQ(only_react->text(), "react=1");
  EXPECT_TRUE(parse_mix("send=100", why)->send_only());
  EXPECT_TRUE(mix{}.send_only());
}

TEST(Mix, RefusesBadText) {
  std::string why;
  for (const char* bad : {"", "send", "send=", "send=-1", "send=1.5", "send=80,", "post=3", "send=1,send=2",
                          "send=0,edit=0", "send=2000000", "send=80 ,edit=5"}) {
    why.clear();
    EXPECT_FALSE(parse_mix(bad, why)) << bad;
    EXPECT_FALSE(why.empty()) << bad;
  }
}

TEST(Mix, DrawsByWeightAndRepeatably) {
  std::string why;
  const auto m = *parse_mix("send=80,edit=5,delete=5,react=10", why);
  std::size_t counts[action_count] = {};
  constexpr std::uint64_t n = 100000;
  for (std::uint64_t g = 0; g < n; ++g) ++counts[static_cast<std::size_t>(m.pick(g, 42))];
  EXPECT_NEAR(static_cast<double>(counts[0]) / n, 0.80, 0.01);
  EXPECT_NEAR(static_cast<double>(counts[1]) / n, 0.05, 0.005);
  EXPECT_NEAR(static_cast<double>(counts[2]) / n, 0.05, 0.005);
  EXPECT_NEAR(static_cast<double>(counts[3]) / n, 0.10, 0.01);
  for (std::uint64_t g = 0; g < 100; ++g) EXPECT_EQ(m.pick(g, 42), m.pick(g, 42));
  for (std::uint64_t g = 0; g < 100; ++g) EXPECT_EQ(mix{}.pick(g, 42), action::send);
}

TEST(Mix, OwnMessagesWindow) {
  std::vector<own_message> own;
  EXPECT_EQ(pick_target(own, 1), nullptr);
  for (std::int64_t id = 1; id <= 10; ++id) remember_own(own, id);
  ASSERT_EQ(own.size(), own_message_window);
  EXPECT_EQ(own.front().id, 3);  // the oldest were forgotten
  for (std::uint64_t g = 0; g < 50; ++g) {
    const auto* t = pick_target(own, g);
    ASSERT_NE(t, nullptr);
    EXPECT_GE(t->id, 3);
  }
  forget_own(own, 5);
  EXPECT_EQ(own.size(), own_message_window - 1);
  for (const auto& m : own) EXPECT_NE(m.id, 5);
}

TEST(Mix, OnlyMessagesReceiptedLongEnoughAgoAreTargets) {
  std::vector<own_message> own;
  remember_own(own, 1, 1000);
  remember_own(own, 2, 2000);
  remember_own(own, 3, 3000);
  EXPECT_EQ(pick_target(own, 7, 1500, 1000), nullptr);  // the first is 500 old
  for (std::uint64_t g = 0; g < 20; ++g) {
    EXPECT_EQ(pick_target(own, g, 2000, 1000)->id, 1);
    EXPECT_LE(pick_target(own, g, 3500, 1000)->id, 2);
  }
}

TEST(Mix, EventBodiesAreTheStompCommands) {
  std::string out;
  const std::string key = message_key(7, 9);
  edit_body(out, 42, 1099511627790, "CL1.x", key);
  auto j = nlohmann::json::parse(out);
  EXPECT_EQ(j["roomId"], 42);
  EXPECT_EQ(j["targetId"], 1099511627790);
  EXPECT_EQ(j["content"], "CL1.x");
  EXPECT_EQ(j["messageKey"], key);
  delete_body(out, 42, 5, key);
  j = nlohmann::json::parse(out);
  EXPECT_EQ(j.size(), 3u);
  EXPECT_EQ(j["targetId"], 5);
  react_body(out, 42, 5, reaction_emojis[0], false, key);
  j = nlohmann::json::parse(out);
  EXPECT_EQ(j["emoji"], "👍");
  EXPECT_FALSE(j.contains("remove"));
  react_body(out, 42, 5, reaction_emojis[1], true, key);
  j = nlohmann::json::parse(out);
  EXPECT_EQ(j["remove"], true);
}

TEST(Mix, ReadsTheIdAndKeyOfALiveEvent) {
  const std::string body =
      R"({"id":1099511627791,"event":"reaction.added","messageKey":"01234567-89ab-4cde-8f01-23456789abcd",)"
      R"("roomId":4,"senderId":7,"senderNickname":"a","targetId":5,"emoji":"👍","createdAt":"2026-12-07T12:00:00.000Z"})";
  EXPECT_EQ(body_event_id(body), 1099511627791);
  EXPECT_EQ(body_message_key(body), "01234567-89ab-4cde-8f01-23456789abcd");
  EXPECT_FALSE(body_event_id(R"({"roomId":4})"));
  EXPECT_FALSE(body_message_key(R"({"roomId":4})"));
}

TEST(Mix, LedgerCountsByKindAndChecksRoomOrder) {
  const plan p{4, 1, 2, 10};  // one room, two members, sender slot g % 2
  ledger l(p, 8);
  l.mark_issued(0);
  l.mark_issued(1);
  l.mark_issued(2, event_index::edited);
  l.mark_issued(3, event_index::reaction_added);
  l.mark_issued(4, event_index::deleted);
  EXPECT_EQ(l.kind_of(2), event_index::edited);
  EXPECT_EQ(l.kind_of(0), event_index::message);
  // Receiver 0 sees every event in room order (ids 10..14).
  for (std::uint64_t g = 0; g < 5; ++g) EXPECT_EQ(l.deliver(g, 0, 10 + static_cast<std::int64_t>(g)), delivery::first);
  // Receiver 1: the edit (id 12) after the reaction (id 13): out of room order although the
  // senders differ; the delete never arrives; the message 1 twice.
  EXPECT_EQ(l.deliver(0, 1, 10), delivery::first);
  EXPECT_EQ(l.deliver(1, 1, 11), delivery::first);
  EXPECT_EQ(l.deliver(1, 1, 11), delivery::duplicate);
  EXPECT_EQ(l.deliver(3, 1, 13), delivery::first);
  EXPECT_EQ(l.deliver(2, 1, 12), delivery::reordered);
  const auto t = l.summarize();
  EXPECT_EQ(t.lost, 1u);
  EXPECT_EQ(t.duplicated, 1u);
  EXPECT_EQ(t.reordered, 1u);
  const auto& m = t.by_kind[static_cast<std::size_t>(event_index::message)];
  EXPECT_EQ(m.issued, 2u);
  EXPECT_EQ(m.expected, 4u);
  EXPECT_EQ(m.delivered, 4u);
  EXPECT_EQ(m.duplicated, 1u);
  const auto& e = t.by_kind[static_cast<std::size_t>(event_index::edited)];
  EXPECT_EQ(e.issued, 1u);
  EXPECT_EQ(e.reordered, 1u);
  const auto& d = t.by_kind[static_cast<std::size_t>(event_index::deleted)];
  EXPECT_EQ(d.lost, 1u);
  EXPECT_EQ(d.delivered, 1u);
  EXPECT_EQ(t.by_kind[static_cast<std::size_t>(event_index::reaction_added)].delivered, 2u);
}

TEST(Mix, EventNames) {
  EXPECT_STREQ(to_string(event_index::message), "message");
  EXPECT_STREQ(to_string(event_index::reaction_removed), "reaction.removed");
  EXPECT_STREQ(to_string(action::remove), "delete");
}
