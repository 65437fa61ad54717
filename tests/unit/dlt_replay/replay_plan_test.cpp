#include "core/replay_plan.hpp"

#include <gtest/gtest.h>

#include <map>

#include "fixtures.hpp"

namespace dlt_replay {
namespace {

using test::chat_dead_letter;

constexpr std::int64_t now = 1763726500000;

std::string header_value(const std::vector<header>& hs, std::string_view name) {
  for (const auto& h : hs) {
    if (h.name == name) return h.value;
  }
  return "<absent>";
}

std::size_t header_count(const std::vector<header>& hs, std::string_view name) {
  std::size_t n = 0;
  for (const auto& h : hs) n += h.name == name ? 1 : 0;
  return n;
}

class planning : public ::testing::Test {
 protected:
  plan_item plan(const dead_letter& d, replay_options options = {}) {
    replay_planner p(std::move(options), ledger, counts(), now);
    return p.plan(d);
  }
  partition_count_fn counts() {
    return [this](const std::string& topic) {
      const auto it = partitions.find(topic);
      return it == partitions.end() ? -1 : it->second;
    };
  }

  ledger_view ledger;
  std::map<std::string, int> partitions{{"chat.messages", 6}, {"small", 2}, {"parking", 6}};
};

TEST_F(planning, sends_to_the_original_topic_and_partition_with_key_and_value) {
  const auto d = chat_dead_letter();
  const auto item = plan(d);
  ASSERT_EQ(item.action, replay_action::send);
  EXPECT_EQ(item.out.topic, "chat.messages");
  EXPECT_EQ(item.out.partition, 3);
  EXPECT_EQ(item.out.key, d.key);
  EXPECT_EQ(item.out.value, d.value);
}

TEST_F(planning, replay_headers_drop_dead_letter_headers_and_add_three) {
  auto d = chat_dead_letter();
  d.headers.push_back({"dlt-replay-count", "1"});
  d.headers.push_back({"dlt-replayed-from", "chat.messages.dlt:0:1"});
  d.info = normalise(d.headers);
  const auto hs = plan(d).out.headers;
  // The original record's headers are forwarded unchanged, in order.
  ASSERT_GE(hs.size(), 3U);
  EXPECT_EQ(hs[0], (header{"message-key", "3b241101-e2bb-4255-8caf-4136c566a962"}));
  EXPECT_EQ(hs[1].name, "sent-at");
  EXPECT_EQ(hs[2].name, "origin-node");
  for (const auto& h : hs) {
    EXPECT_FALSE(h.name.starts_with("dlt-original") || h.name.starts_with("dlt-exception") || h.name == "dlt-attempts")
        << h.name;
  }
  EXPECT_EQ(header_value(hs, "dlt-replayed-from"), "chat.messages.dlt:3:7");
  EXPECT_EQ(header_value(hs, "dlt-replay-count"), "2");
  EXPECT_EQ(header_value(hs, "dlt-replayed-at"), std::to_string(now));
  EXPECT_EQ(header_count(hs, "dlt-replay-count"), 1U);
  EXPECT_EQ(header_count(hs, "dlt-replayed-from"), 1U);
  EXPECT_EQ(hs.size(), 6U);
}

TEST_F(planning, spring_and_connect_headers_are_not_forwarded) {
  auto d = chat_dead_letter();
  d.headers = test::spring_headers("orders", 1, 5, "E", "m");
  d.headers.push_back({"traceparent", "00-abc-01"});
  d.info = normalise(d.headers);
  partitions["orders"] = 3;
  auto item = plan(d);
  ASSERT_EQ(item.action, replay_action::send);
  EXPECT_EQ(item.out.topic, "orders");
  EXPECT_EQ(item.out.partition, 1);
  EXPECT_EQ(item.out.headers.front(), (header{"traceparent", "00-abc-01"}));
  EXPECT_EQ(item.out.headers.size(), 4U);

  d.headers = test::connect_headers();
  d.info = normalise(d.headers);
  item = plan(d);
  ASSERT_EQ(item.action, replay_action::send);
  EXPECT_EQ(item.out.partition, -1);  // orders has 3 partitions; the origin was 5
  EXPECT_EQ(item.out.headers.size(), 3U);
}

TEST_F(planning, to_topic_keeps_the_partition_only_when_it_exists) {
  const auto d = chat_dead_letter();  // origin partition 3
  replay_options o;
  o.to_topic = "small";
  const auto item = plan(d, o);
  ASSERT_EQ(item.action, replay_action::send);
  EXPECT_EQ(item.out.topic, "small");
  EXPECT_EQ(item.out.partition, -1);
}

TEST_F(planning, missing_target_and_missing_origin) {
  replay_options o;
  o.to_topic = "nope";
  auto item = plan(chat_dead_letter(), o);
  EXPECT_EQ(item.action, replay_action::target_missing);
  EXPECT_NE(item.reason.find("nope"), std::string::npos);

  dead_letter bare = chat_dead_letter();
  bare.headers = {{"x", "y"}};
  bare.info = normalise(bare.headers);
  item = plan(bare);
  EXPECT_EQ(item.action, replay_action::no_target);
  EXPECT_NE(item.reason.find("--to"), std::string::npos);
  o.to_topic = "chat.messages";
  EXPECT_EQ(plan(bare, o).action, replay_action::send);
}

TEST_F(planning, max_replays_refuses_or_parks) {
  auto d = chat_dead_letter();
  d.headers.push_back({"dlt-replay-count", "3"});
  d.info = normalise(d.headers);
  auto item = plan(d);  // default --max-replays 3
  EXPECT_EQ(item.action, replay_action::over_max_replays);
  EXPECT_NE(item.reason.find("3 times"), std::string::npos);

  replay_options o;
  o.max_replays = 4;
  EXPECT_EQ(plan(d, o).action, replay_action::send);

  o.max_replays = 3;
  o.park_topic = "parking";
  item = plan(d, o);
  ASSERT_EQ(item.action, replay_action::park);
  EXPECT_EQ(item.out.topic, "parking");
  EXPECT_EQ(item.out.partition, 3);  // the dead letter's partition
  EXPECT_EQ(item.out.value, d.value);
  // A parked record stays a dead letter: its dlt-* headers are kept.
  EXPECT_EQ(header_value(item.out.headers, "dlt-original-offset"), "1234");
  EXPECT_EQ(header_value(item.out.headers, "dlt-replay-count"), "3");
  EXPECT_EQ(header_value(item.out.headers, "dlt-parked-from"), "chat.messages.dlt:3:7");
  EXPECT_EQ(header_value(item.out.headers, "dlt-parked-at"), std::to_string(now));

  o.park_topic = "missing";
  EXPECT_EQ(plan(d, o).action, replay_action::target_missing);

  o = {};
  o.max_replays = 0;  // refuse everything
  EXPECT_EQ(plan(chat_dead_letter(), o).action, replay_action::over_max_replays);
}

TEST_F(planning, ledger_skips_what_was_done_unless_restart) {
  const auto d = chat_dead_letter();
  ledger_entry e;
  e.dlt = d.dlt;
  e.origin = origin_of(d.info);
  ledger.add(e);
  EXPECT_EQ(plan(d).action, replay_action::already_done);
  replay_options o;
  o.restart = true;
  EXPECT_EQ(plan(d, o).action, replay_action::send);
}

TEST_F(planning, one_original_record_is_replayed_once) {
  // Both consumer groups dead-lettered the same record of chat.messages.
  auto persistence = chat_dead_letter();
  auto broadcast = chat_dead_letter();
  broadcast.dlt.offset = 8;
  replay_planner p({}, ledger, counts(), now);
  EXPECT_EQ(p.plan(persistence).action, replay_action::send);
  const auto second = p.plan(broadcast);
  EXPECT_EQ(second.action, replay_action::same_origin);
  EXPECT_NE(second.reason.find("chat.messages:3:1234"), std::string::npos);

  // ... and across runs, through the ledger.
  ledger_entry e;
  e.dlt = persistence.dlt;
  e.origin = origin_of(persistence.info);
  ledger.add(e);
  EXPECT_EQ(plan(broadcast).action, replay_action::same_origin);
  // Parking does not count as replaying the origin.
  ledger_view parked;
  e.action = ledger_action::parked;
  parked.add(e);
  replay_planner q({}, parked, counts(), now);
  EXPECT_EQ(q.plan(broadcast).action, replay_action::send);
}

TEST(ledger_entry, round_trips) {
  ledger_entry e;
  e.action = ledger_action::parked;
  e.dlt = {"chat.messages.dlt", 3, 7};
  e.origin = position{"chat.messages", 3, 1234};
  e.target = {"parking", 3, 99};
  e.replay_count = 3;
  e.at_ms = now;
  e.by = "sre@host";
  EXPECT_EQ(ledger_key(e.dlt), "chat.messages.dlt:3:7");
  const auto back = decode_ledger_entry(encode_ledger_entry(e));
  ASSERT_TRUE(back);
  EXPECT_EQ(back->action, ledger_action::parked);
  EXPECT_EQ(back->dlt, e.dlt);
  EXPECT_EQ(back->origin, e.origin);
  EXPECT_EQ(back->target, e.target);
  EXPECT_EQ(back->replay_count, 3);
  EXPECT_EQ(back->at_ms, now);
  EXPECT_EQ(back->by, "sre@host");
  e.origin.reset();
  EXPECT_EQ(decode_ledger_entry(encode_ledger_entry(e))->origin, std::nullopt);
  for (const char* bad : {"", "{}", "[]", R"({"v":2,"action":"replayed"})", R"({"v":1,"action":"eaten"})",
                          R"({"v":1,"action":"replayed","dlt":{"topic":"t"}})"}) {
    EXPECT_EQ(decode_ledger_entry(bad), std::nullopt) << bad;
  }
}

TEST(replay_summary, exit_codes) {
  replay_summary s;
  EXPECT_EQ(exit_code(s), 0);  // nothing selected
  s.selected = 3;
  s.replayed = 2;
  s.skipped = 1;
  EXPECT_EQ(exit_code(s), 0);
  s.refused = 1;
  EXPECT_EQ(exit_code(s), 3);
  s = {};
  s.selected = 2;
  s.replayed = 1;
  s.failed = 1;
  EXPECT_EQ(exit_code(s), 3);
  s = {};
  s.selected = 2;
  s.failed = 2;
  EXPECT_EQ(exit_code(s), 1);
  s = {};
  s.selected = 1;
  s.refused = 1;
  EXPECT_EQ(exit_code(s), 3);
  s = {};
  s.selected = 1;
  s.replayed = 1;
  s.unrecorded = 1;
  EXPECT_EQ(exit_code(s), 1);
}

TEST(replay_summary, counts_planning_outcomes) {
  replay_summary s;
  for (const auto a :
       {replay_action::send, replay_action::park, replay_action::already_done, replay_action::same_origin,
        replay_action::over_max_replays, replay_action::no_target, replay_action::target_missing}) {
    s.count(a);
  }
  EXPECT_EQ(s.replayed + s.parked, 0U);
  EXPECT_EQ(s.skipped, 2U);
  EXPECT_EQ(s.refused, 1U);
  EXPECT_EQ(s.failed, 2U);
}

}  // namespace
}  // namespace dlt_replay
