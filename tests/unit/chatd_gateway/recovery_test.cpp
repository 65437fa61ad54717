// Recovery on SUBSCRIBE with since-id (docs/stomp.md "Recovery"): the seam as a pure component
// (recovery_seam: hold, dedup, truncation markers), and the session driving it against the fake
// store and log ends (arming, the store behind the log, limits, timeouts, RECEIPT recovered:).
#include "fakes.hpp"

#include <chat/common/uuid.hpp>
#include <chat/proto/message.hpp>

#include <nlohmann/json.hpp>

using namespace std::chrono_literals;
using chat::stomp::command;

// A namespace of its own: the CI's unity build puts this file in one unit with other tests.
namespace chat::gateway::test::recovery_tests {
namespace {

std::string header_of(const stomp::frame& f, std::string_view name) {
  const auto v = f.get(name);
  return v ? std::string(*v) : std::string("<absent>");
}

proto::chat_message stored_message(std::int64_t room, std::int64_t id, std::string content = "hi") {
  proto::chat_message m;
  m.id = id;
  m.message_key = common::make_uuid_v4();
  m.room_id = room;
  m.sender_id = 2;
  m.sender_nickname = "bob";
  m.content = std::move(content);
  m.created_at_ms = epoch_ms;
  return m;
}

std::shared_ptr<const fanout_event> event_of(const proto::chat_message& m) {
  return make_room_event(m, proto::to_json(m));
}

std::shared_ptr<const fanout_event> event_of(std::int64_t id) { return event_of(stored_message(10, id)); }

std::vector<std::string> ids_of(const std::vector<recovery_seam::event_ptr>& frames) {
  std::vector<std::string> out;
  for (const auto& f : frames) out.push_back(f->message_id);
  return out;
}

using strings = std::vector<std::string>;

// ---- the seam ---------------------------------------------------------------------------------

TEST(recovery_seam, stored_then_held_without_duplicates_at_the_seam) {
  recovery_seam seam(10, 3, 100);
  // Live events arrived while the store was read: 5 and 6 are in the store too, 4 is older
  // than what the store answers with (the broadcast consumer was ahead), 2 is before since-id.
  for (const auto id : {2, 5, 6, 7, 8}) ASSERT_TRUE(seam.hold(event_of(id)));
  const auto out = seam.finish({event_of(4), event_of(5), event_of(6)}, false, true);
  EXPECT_EQ(ids_of(out.frames), (strings{"4", "5", "6", "7", "8"}));
  EXPECT_EQ(out.replayed, 3u);
  EXPECT_TRUE(out.recovered);
  // Live from here on: only what is past the last delivered id.
  EXPECT_FALSE(seam.admit(*event_of(8)));
  EXPECT_FALSE(seam.admit(*event_of(6)));
  EXPECT_TRUE(seam.admit(*event_of(9)));
  EXPECT_EQ(seam.last_id(), 9);
}

TEST(recovery_seam, more_than_the_limit_puts_the_marker_first) {
  recovery_seam seam(10, 0, 100);
  ASSERT_TRUE(seam.hold(event_of(12)));
  const auto out = seam.finish({event_of(10), event_of(11)}, true, true);
  EXPECT_EQ(ids_of(out.frames), (strings{"t10-10", "10", "11", "12"}));
  EXPECT_FALSE(out.recovered);
  EXPECT_EQ(out.replayed, 2u);
  const auto body = nlohmann::json::parse(out.frames[0]->tail->substr(
      out.frames[0]->tail->find("\n\n") + 2, out.frames[0]->tail->size() - out.frames[0]->tail->find("\n\n") - 3));
  EXPECT_EQ(body, nlohmann::json::parse(R"({"event":"recovery.truncated","roomId":10,"fromId":10})"));
  EXPECT_NE(out.frames[0]->tail->find("chat-event:recovery.truncated\n"), std::string::npos);
}

TEST(recovery_seam, a_store_that_did_not_catch_up_puts_the_marker_at_the_seam) {
  recovery_seam seam(10, 1, 100);
  ASSERT_TRUE(seam.hold(event_of(9)));
  ASSERT_TRUE(seam.hold(event_of(10)));
  const auto out = seam.finish({event_of(2), event_of(3)}, false, false);
  // The store has 2 and 3; what lies between 3 and 9 may be missing: the marker says from 9 on.
  EXPECT_EQ(ids_of(out.frames), (strings{"2", "3", "t10-9", "9", "10"}));
  EXPECT_FALSE(out.recovered);

  recovery_seam nothing_held(10, 1, 100);
  const auto alone = nothing_held.finish({event_of(2)}, false, false);
  EXPECT_EQ(ids_of(alone.frames), (strings{"2", "t10-3"}));
}

TEST(recovery_seam, the_hold_is_bounded) {
  recovery_seam seam(10, 0, 2);
  EXPECT_TRUE(seam.hold(event_of(1)));
  EXPECT_TRUE(seam.hold(event_of(2)));
  EXPECT_FALSE(seam.hold(event_of(3)));
  EXPECT_EQ(seam.held(), 2u);
  // Finished without the store: the held events follow the marker, then live goes on.
  const auto out = seam.finish({}, false, false);
  EXPECT_EQ(ids_of(out.frames), (strings{"t10-1", "1", "2"}));
  EXPECT_TRUE(seam.admit(*event_of(3)));
}

TEST(recovery_seam, id_zero_is_a_real_id) {
  recovery_seam seam(10, 0, 10);
  const auto out = seam.finish({event_of(0), event_of(1)}, false, true);
  EXPECT_EQ(ids_of(out.frames), (strings{"1"})) << "since-id 0: events after message 0";
}

// ---- the session ------------------------------------------------------------------------------

// Room 10 lives on partition 2 (fake_positions: room % 4); the log ends at offset 50 there.
struct recovery_harness : harness {
  explicit recovery_harness(session_settings settings = defaults()) : harness(settings) {
    positions.ends[2] = 50;
    dir.progress[2] = 50;
    for (const auto id : {5, 6, 7}) dir.room_events[10].push_back(stored_message(10, id, "m" + std::to_string(id)));
  }
  void live(std::int64_t id) { hub.on_room_message(10, proto::to_json(stored_message(10, id, "live"))); }
};

strings message_ids(harness::client& c) {
  strings out;
  for (const auto& f : c.t->frames) {
    if (f.cmd == command::message) out.push_back(header_of(f, "message-id"));
  }
  return out;
}

TEST(session_recovery, replays_the_store_then_goes_live_and_the_receipt_says_recovered) {
  recovery_harness h;
  auto c = h.connect(1);
  c.send(command::subscribe, {{"id", "a"}, {"destination", "/topic/room.10"}, {"since-id", "5"}, {"receipt", "ra"}});
  EXPECT_TRUE(c.t->frames.empty()) << "waits for the bus";
  EXPECT_EQ(h.positions.asks, 0);
  h.hub.on_armed("chat:room:10");
  h.poll();
  ASSERT_EQ(h.dir.recovery_asks.size(), 1u);
  EXPECT_EQ(h.dir.recovery_asks[0].partition, 2);
  EXPECT_EQ(h.dir.recovery_asks[0].stored_through, 50);
  EXPECT_EQ(h.dir.recovery_asks[0].after, 5);
  EXPECT_EQ(h.dir.recovery_asks[0].limit, 1000);
  ASSERT_EQ(c.t->frames.size(), 3u);
  const auto first = c.next();
  EXPECT_EQ(first.cmd, command::message);
  EXPECT_EQ(header_of(first, "message-id"), "6");
  EXPECT_EQ(header_of(first, "subscription"), "a");
  EXPECT_EQ(header_of(first, "destination"), "/topic/room.10");
  EXPECT_EQ(header_of(first, "chat-event"), "message");
  EXPECT_EQ(header_of(first, "content-type"), "application/json");
  EXPECT_EQ(nlohmann::json::parse(first.body)["content"], "m6");
  EXPECT_EQ(header_of(c.next(), "message-id"), "7");
  const auto receipt = c.next();
  EXPECT_EQ(receipt.cmd, command::receipt);
  EXPECT_EQ(header_of(receipt, "receipt-id"), "ra");
  EXPECT_EQ(header_of(receipt, "recovered"), "true");
  // Live: a late copy of 7 is dropped, 8 comes.
  h.live(7);
  h.live(8);
  h.poll();
  EXPECT_EQ(message_ids(c), (strings{"8"}));
  EXPECT_EQ(h.node_metrics.recoveries.value(), 1u);
  EXPECT_EQ(h.node_metrics.recovery_events.value(), 2u);
  EXPECT_EQ(h.node_metrics.recovery_truncations.value(), 0u);
}

TEST(session_recovery, live_events_wait_behind_a_store_that_is_behind) {
  recovery_harness h;
  h.dir.progress[2] = 40;  // the persistence consumer is behind the log's end (50)
  auto c = h.connect(1);
  c.send(command::subscribe, {{"id", "a"}, {"destination", "/topic/room.10"}, {"since-id", "5"}, {"receipt", "ra"}});
  h.hub.on_armed("chat:room:10");
  h.poll();
  EXPECT_EQ(h.dir.recovery_asks.size(), 1u);
  // Broadcast is ahead: live 8 and 9 arrive now, and are held.
  h.live(8);
  h.live(9);
  h.poll();
  EXPECT_TRUE(c.t->frames.empty());
  // The store catches up (it stored 8 meanwhile); the next poll (timer) finds it.
  h.dir.room_events[10].push_back(stored_message(10, 8, "m8"));
  h.dir.progress[2] = 50;
  ASSERT_TRUE(c.t->deadline);
  h.clock.advance(h.env->settings.recovery_poll);
  c.s->on_timer();
  h.poll();
  EXPECT_EQ(h.dir.recovery_asks.size(), 2u);
  EXPECT_EQ(message_ids(c), (strings{"6", "7", "8", "9"}));
  EXPECT_EQ(header_of(c.t->frames.back(), "recovered"), "true");
}

TEST(session_recovery, more_than_the_limit_gives_the_newest_after_a_marker) {
  session_settings s = harness::defaults();
  s.recovery_limit = 2;
  recovery_harness h(s);
  auto c = h.connect(1);
  c.send(command::subscribe, {{"id", "a"}, {"destination", "/topic/room.10"}, {"since-id", "0"}, {"receipt", "ra"}});
  h.hub.on_armed("chat:room:10");
  h.poll();
  ASSERT_EQ(c.t->frames.size(), 4u);
  const auto marker = c.next();
  EXPECT_EQ(header_of(marker, "chat-event"), "recovery.truncated");
  EXPECT_EQ(header_of(marker, "message-id"), "t10-6");
  EXPECT_EQ(nlohmann::json::parse(marker.body),
            nlohmann::json::parse(R"({"event":"recovery.truncated","roomId":10,"fromId":6})"));
  EXPECT_EQ(header_of(c.next(), "message-id"), "6");
  EXPECT_EQ(header_of(c.next(), "message-id"), "7");
  EXPECT_EQ(header_of(c.next(), "recovered"), "false");
  EXPECT_EQ(h.node_metrics.recovery_truncations.value(), 1u);
}

TEST(session_recovery, a_store_that_never_catches_up_ends_truncated_after_the_wait) {
  recovery_harness h;
  h.dir.progress[2] = 10;
  auto c = h.connect(1);
  c.send(command::subscribe, {{"id", "a"}, {"destination", "/topic/room.10"}, {"since-id", "5"}, {"receipt", "ra"}});
  h.hub.on_armed("chat:room:10");
  h.poll();
  h.live(20);
  h.poll();
  for (int i = 0; i < 100 && !c.t->frames.size(); ++i) {
    h.clock.advance(200ms);
    c.s->on_timer();
    h.poll();
  }
  // What the store had, the marker, the held live event, RECEIPT recovered:false.
  EXPECT_EQ(message_ids(c), (strings{"6", "7", "t10-20", "20"}));
  EXPECT_EQ(header_of(c.t->frames.back(), "recovered"), "false");
  EXPECT_EQ(h.dir.recovery_asks.back().stored_through, 0) << "the last ask takes what there is";
  EXPECT_LE(h.dir.recovery_asks.size(), 20u) << "polls back off";
}

TEST(session_recovery, a_bus_that_does_not_confirm_in_time_does_not_stop_it) {
  recovery_harness h;
  auto c = h.connect(1);
  c.send(command::subscribe, {{"id", "a"}, {"destination", "/topic/room.10"}, {"since-id", "6"}, {"receipt", "ra"}});
  h.clock.advance(h.env->settings.arm_wait);
  c.s->on_timer();
  h.poll();
  EXPECT_EQ(message_ids(c), (strings{"7"}));
  EXPECT_EQ(header_of(c.t->frames.back(), "recovered"), "true");
}

TEST(session_recovery, bad_since_id_is_an_error) {
  for (const std::string bad : {"-1", "abc", "", "07", "1.5", "99999999999999999999999"}) {
    recovery_harness h;
    auto c = h.connect(1);
    c.send(command::subscribe, {{"id", "a"}, {"destination", "/topic/room.10"}, {"since-id", bad}, {"receipt", "r"}});
    const auto f = c.next();
    EXPECT_EQ(f.cmd, command::error) << bad;
    EXPECT_EQ(header_of(f, "message"), "invalid since-id") << bad;
    EXPECT_EQ(header_of(f, "receipt-id"), "r");
  }
  recovery_harness h;
  auto c = h.connect(1);
  c.send(command::subscribe, {{"id", "a"}, {"destination", "/topic/room.10.typing"}, {"since-id", "1"}});
  EXPECT_EQ(header_of(c.next(), "message"), "invalid since-id");
}

TEST(session_recovery, a_non_member_recovers_nothing) {
  recovery_harness h;
  auto c = h.connect(3);
  c.send(command::subscribe, {{"id", "a"}, {"destination", "/topic/room.10"}, {"since-id", "0"}, {"receipt", "r"}});
  const auto f = c.next();
  EXPECT_EQ(f.cmd, command::error);
  EXPECT_EQ(header_of(f, "message"), "forbidden");
  EXPECT_TRUE(h.dir.recovery_asks.empty());
  EXPECT_EQ(h.positions.asks, 0);
}

TEST(session_recovery, the_replay_waits_for_the_outbound_queue_instead_of_shedding) {
  session_settings s = harness::defaults();
  s.max_outbound_bytes = 4096;
  recovery_harness h(s);
  h.dir.room_events[10].clear();
  for (int id = 1; id <= 40; ++id) h.dir.room_events[10].push_back(stored_message(10, id, std::string(400, 'x')));
  auto c = h.connect(1);
  c.t->auto_write = false;
  c.send(command::subscribe, {{"id", "a"}, {"destination", "/topic/room.10"}, {"since-id", "0"}, {"receipt", "ra"}});
  h.hub.on_armed("chat:room:10");
  h.poll();
  // A client that reads slowly: one write at a time.
  for (int i = 0; i < 100 && c.t->begin_write() > 0; ++i) c.t->complete();
  strings expected;
  for (int id = 1; id <= 40; ++id) expected.push_back(std::to_string(id));
  EXPECT_EQ(message_ids(c), expected);
  EXPECT_EQ(header_of(c.t->frames.back(), "recovered"), "true");
  EXPECT_EQ(h.node_metrics.fanout_shed.value(), 0u);
}

TEST(session_recovery, a_second_subscription_of_the_room_recovers_on_its_own) {
  recovery_harness h;
  auto c = h.connect(1);
  c.send(command::subscribe, {{"id", "live"}, {"destination", "/topic/room.10"}, {"receipt", "r1"}});
  h.hub.on_armed("chat:room:10");
  h.poll();
  EXPECT_EQ(header_of(c.next(), "receipt-id"), "r1");
  c.send(command::subscribe, {{"id", "rec"}, {"destination", "/topic/room.10"}, {"since-id", "6"}, {"receipt", "r2"}});
  h.poll();
  ASSERT_EQ(c.t->frames.size(), 2u);
  const auto replayed = c.next();
  EXPECT_EQ(header_of(replayed, "subscription"), "rec");
  EXPECT_EQ(header_of(replayed, "message-id"), "7");
  EXPECT_EQ(header_of(c.next(), "recovered"), "true");
  h.live(8);
  h.poll();
  ASSERT_EQ(c.t->frames.size(), 2u);
  EXPECT_EQ(header_of(c.next(), "subscription"), "live");
  EXPECT_EQ(header_of(c.next(), "subscription"), "rec");
}

// --recovery-memory: a reconnecting client whose since-id this node's channel still remembers
// gets the events after it from memory at once: no log position, no store, nothing waits.
TEST(session_recovery, what_the_node_remembers_is_replayed_without_the_store) {
  recovery_harness h;
  h.hub.set_replay_depth(64);
  auto other = h.connect(2);  // keeps the room's channel on this node
  other.send(command::subscribe, {{"id", "live"}, {"destination", "/topic/room.10"}, {"receipt", "r"}});
  h.hub.on_armed("chat:room:10");
  h.poll();
  for (const auto id : {8, 9, 10, 11}) h.live(id);
  h.poll();
  auto c = h.connect(1);
  c.send(command::subscribe, {{"id", "a"}, {"destination", "/topic/room.10"}, {"since-id", "9"}, {"receipt", "ra"}});
  h.poll();
  EXPECT_EQ(message_ids(c), (strings{"10", "11"}));
  EXPECT_EQ(header_of(c.t->frames.back(), "recovered"), "true");
  EXPECT_EQ(h.positions.asks, 0);
  EXPECT_TRUE(h.dir.recovery_asks.empty());
  EXPECT_EQ(h.node_metrics.recoveries_from_memory.value(), 1u);
  EXPECT_EQ(h.node_metrics.recovery_events.value(), 2u);
  h.live(11);  // a late copy
  h.live(12);
  h.poll();
  EXPECT_EQ(message_ids(c), (strings{"10", "11", "12"}));

  // Older than what the channel remembers (it was armed after 5): the store answers.
  auto d = h.connect(1);  // another session of a member
  d.send(command::subscribe, {{"id", "b"}, {"destination", "/topic/room.10"}, {"since-id", "5"}, {"receipt", "rb"}});
  h.poll();
  EXPECT_EQ(h.dir.recovery_asks.size(), 1u);
  EXPECT_EQ(h.node_metrics.recoveries_from_memory.value(), 1u);
}

TEST(session_recovery, unsubscribing_while_recovering_ends_it_quietly) {
  recovery_harness h;
  h.positions.immediate = false;
  auto c = h.connect(1);
  c.send(command::subscribe, {{"id", "a"}, {"destination", "/topic/room.10"}, {"since-id", "5"}, {"receipt", "ra"}});
  h.hub.on_armed("chat:room:10");
  h.poll();
  c.send(command::unsubscribe, {{"id", "a"}, {"receipt", "u"}});
  EXPECT_EQ(header_of(c.next(), "receipt-id"), "u");
  h.positions.release();
  h.poll();
  EXPECT_TRUE(c.t->frames.empty());
  EXPECT_TRUE(h.dir.recovery_asks.empty());
}

}  // namespace
}  // namespace chat::gateway::test::recovery_tests
