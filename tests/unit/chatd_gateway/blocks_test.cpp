// Blocks in the STOMP session core (docs/stomp.md "Blocks"): the per-receiver fan-out filter on the
// shared frames, its live updates through the hub, recovery replays, and the DIRECT-room gate.
#include "fakes.hpp"

#include <chat/common/uuid.hpp>
#include <chat/proto/blocks.hpp>
#include <chat/proto/message.hpp>

#include <nlohmann/json.hpp>

using namespace std::chrono_literals;
using chat::stomp::command;

namespace chat::gateway::test::block_tests {
namespace {

// Users 1 (alice), 2 (bob), 3 (carol). Room 10: a group of all three; room 12: DIRECT 1-2.
struct blocks_harness : harness {
  blocks_harness() {
    dir.members = {{10, 1}, {10, 2}, {10, 3}, {12, 1}, {12, 2}};
    dir.direct[12] = {1, 2};
  }
  void change(std::int64_t blocker, std::int64_t blocked, bool on) {
    hub.on_block_change(proto::to_json(proto::block_change{blocker, blocked, on}));
    poll();
  }
};

proto::chat_message message_by(std::int64_t sender, std::int64_t id, std::string content = "hi",
                               std::int64_t room = 10) {
  proto::chat_message m;
  m.id = id;
  m.message_key = common::make_uuid_v4();
  m.room_id = room;
  m.sender_id = sender;
  m.sender_nickname = "user" + std::to_string(sender);
  m.content = std::move(content);
  m.created_at_ms = epoch_ms;
  return m;
}

std::vector<std::string> contents(harness::client& c) {
  std::vector<std::string> out;
  for (const auto& f : c.t->frames) {
    if (f.cmd != command::message) continue;
    const auto body = nlohmann::json::parse(f.body);
    out.push_back(body.contains("content") ? body["content"].get<std::string>() : body.value("event", "?"));
  }
  return out;
}

using strings = std::vector<std::string>;

TEST(blocks_filter, the_blocker_misses_the_blocked_users_messages_and_the_shared_frame_is_not_re_encoded) {
  blocks_harness h;
  h.dir.blocks = {{1, 2}};  // alice blocks bob
  auto alice = h.connect(1);
  auto carol = h.connect(3);
  alice.t->auto_write = false;
  carol.t->auto_write = false;
  alice.send(command::subscribe, {{"id", "a"}, {"destination", "/topic/room.10"}});
  carol.send(command::subscribe, {{"id", "c"}, {"destination", "/topic/room.10"}});

  h.hub.on_room_message(10, proto::to_json(message_by(2, 1, "from bob")));
  h.hub.on_room_message(10, proto::to_json(message_by(3, 2, "from carol")));
  h.poll();
  // Carol gets both; alice only carol's, and its tail is the very memory carol's frame uses.
  ASSERT_EQ(carol.t->begin_write(), 2u);
  ASSERT_EQ(alice.t->begin_write(), 1u);
  ASSERT_EQ(alice.t->writes.back().size(), 2u);  // head + shared tail
  ASSERT_EQ(carol.t->writes.back().size(), 4u);
  EXPECT_EQ(alice.t->writes.back()[1].data(), carol.t->writes.back()[3].data());
  alice.t->complete();
  carol.t->complete();
  EXPECT_EQ(contents(alice), (strings{"from carol"}));
  EXPECT_EQ(contents(carol), (strings{"from bob", "from carol"}));
  // Nobody was asked anything per delivery.
  EXPECT_EQ(h.dir.membership_lookups, 2);  // the two SUBSCRIBEs
}

TEST(blocks_filter, edits_and_typing_are_filtered_the_rooms_state_is_not) {
  blocks_harness h;
  h.dir.blocks = {{1, 2}};
  auto alice = h.connect(1);
  alice.send(command::subscribe, {{"id", "a"}, {"destination", "/topic/room.10"}});
  alice.send(command::subscribe, {{"id", "t"}, {"destination", "/topic/room.10.typing"}});

  auto edit = message_by(2, 5, "edited text");
  edit.event = proto::event_kind::edited;
  edit.target_id = 1;
  auto deleted = message_by(2, 6, "");
  deleted.event = proto::event_kind::deleted;
  deleted.target_id = 1;
  auto reaction = message_by(2, 7, "");
  reaction.event = proto::event_kind::reaction_added;
  reaction.target_id = 3;
  reaction.emoji = "👍";
  const auto joined = proto::membership_notice(10, 2, "bob", proto::membership_change::joined);
  for (const auto& m : {edit, deleted, reaction}) h.hub.on_room_message(10, proto::to_json(m));
  auto notice = joined;
  notice.id = 8;
  notice.message_key = common::make_uuid_v4();
  notice.created_at_ms = epoch_ms;
  h.hub.on_room_message(10, proto::to_json(notice));
  h.hub.on_typing(10, proto::to_json(proto::typing_event{10, 2, "bob", epoch_ms}));
  h.hub.on_typing(10, proto::to_json(proto::typing_event{10, 3, "carol", epoch_ms}));
  h.poll();

  std::vector<std::string> events;
  std::vector<std::int64_t> typists;
  for (const auto& f : alice.t->frames) {
    const auto body = nlohmann::json::parse(f.body);
    if (f.get("destination") == std::optional<std::string_view>("/topic/room.10.typing")) {
      typists.push_back(body["userId"]);
    } else {
      events.push_back(std::string(*f.get("chat-event")));
    }
  }
  EXPECT_EQ(events, (strings{"message.deleted", "reaction.added", "member.joined"}));  // the SYSTEM notice
  EXPECT_EQ(typists, (std::vector<std::int64_t>{3}));
}

TEST(blocks_filter, block_changes_apply_live_and_reach_both_users_sessions) {
  blocks_harness h;
  auto alice = h.connect(1);
  auto carol = h.connect(3);
  EXPECT_EQ(h.hub.registered_users(), 2u);
  alice.send(command::subscribe, {{"id", "a"}, {"destination", "/topic/room.10"}});
  carol.send(command::subscribe, {{"id", "c"}, {"destination", "/topic/room.10"}});
  h.hub.on_room_message(10, proto::to_json(message_by(2, 1, "one")));
  h.change(1, 2, true);
  h.hub.on_room_message(10, proto::to_json(message_by(2, 2, "two")));
  h.change(3, 2, true);  // someone else's block changes nothing for alice
  h.change(3, 2, false);
  h.change(1, 2, false);
  h.hub.on_room_message(10, proto::to_json(message_by(2, 3, "three")));
  h.poll();
  EXPECT_EQ(contents(alice), (strings{"one", "three"}));
  EXPECT_EQ(contents(carol), (strings{"one", "two", "three"}));
  // Malformed changes are dropped.
  h.hub.on_block_change(R"({"event":"block.added","blockerId":1,"blockedId":1})");
  h.hub.on_block_change("nonsense");
  EXPECT_EQ(h.hub.dropped_payloads(), 2u);
  alice.s->on_transport_closed();
  carol.s->on_transport_closed();
  EXPECT_EQ(h.hub.registered_users(), 0u);
}

TEST(blocks_filter, a_change_heard_while_connect_looks_the_user_up_is_not_lost) {
  blocks_harness h;
  h.dir.blocks = {{1, 3}};  // the store's answer: alice blocks carol (and, below, not bob yet)
  h.dir.immediate = false;
  auto alice = h.open("a");
  alice.send(command::connect, {{"accept-version", "1.2"}, {"passcode", token_for(1, h.clock.unix_ms())}});
  ASSERT_EQ(h.dir.held.size(), 1u);
  // Made after the store answered (in a real race: committed after the lookup read).
  h.change(1, 2, true);
  h.change(1, 3, false);
  h.dir.release_one();
  h.poll();
  h.dir.immediate = true;
  EXPECT_EQ(alice.next().cmd, command::connected);
  alice.send(command::subscribe, {{"id", "a"}, {"destination", "/topic/room.10"}});
  h.hub.on_room_message(10, proto::to_json(message_by(2, 1, "bob")));
  h.hub.on_room_message(10, proto::to_json(message_by(3, 2, "carol")));
  h.poll();
  EXPECT_EQ(contents(alice), (strings{"carol"}));
}

TEST(blocks_filter, recovery_replays_skip_the_blocked_users_events) {
  blocks_harness h;
  h.dir.blocks = {{1, 2}};
  h.positions.ends[2] = 50;  // room 10: partition 2
  h.dir.progress[2] = 50;
  for (const auto& m : {message_by(2, 5, "b5"), message_by(3, 6, "c6"), message_by(2, 7, "b7"), message_by(3, 8, "c8")})
    h.dir.room_events[10].push_back(m);
  auto alice = h.connect(1);
  alice.send(command::subscribe,
             {{"id", "a"}, {"destination", "/topic/room.10"}, {"since-id", "4"}, {"receipt", "ra"}});
  h.hub.on_armed("chat:room:10");
  h.poll();
  EXPECT_EQ(contents(alice), (strings{"c6", "c8"}));
  EXPECT_EQ(alice.t->frames.back().cmd, command::receipt);
  EXPECT_EQ(*alice.t->frames.back().get("recovered"), "true");
}

TEST(blocks_direct, a_blocked_pair_cannot_write_in_their_direct_room_either_way) {
  blocks_harness h;
  h.dir.rooms_on_connect = true;
  auto alice = h.connect(1);
  auto bob = h.connect(2);
  for (auto* c : {&alice, &bob}) c->send(command::subscribe, {{"id", "e"}, {"destination", "/user/queue/errors"}});
  alice.send(command::send, {{"destination", "/topic/room.12"}, {"receipt", "1"}}, "hi bob");
  EXPECT_EQ(h.log.messages.size(), 1u);

  h.dir.blocks = {{2, 1}};  // bob blocks alice (stored), then the bus tells both sessions
  h.change(2, 1, true);
  const auto lookups = h.dir.membership_lookups + h.dir.context_lookups;
  for (auto* c : {&alice, &bob}) {
    c->send(command::send, {{"destination", "/topic/room.12"}, {"receipt", "x"}}, "still there?");
    c->send(command::send, {{"destination", "/app/chat.typing"}, {"receipt", "t"}}, R"({"roomId":12})");
    for (const auto* receipt : {"x", "t"}) {
      const auto f = c->next();
      ASSERT_EQ(f.cmd, command::message);
      const auto body = nlohmann::json::parse(f.body);
      EXPECT_EQ(body["code"], "blocked");
      EXPECT_EQ(body["receiptId"], receipt);
    }
    EXPECT_FALSE(c->t->closing());
  }
  EXPECT_EQ(h.dir.membership_lookups + h.dir.context_lookups, lookups) << "decided from the cached gate";
  EXPECT_EQ(h.log.messages.size(), 1u);
  EXPECT_TRUE(h.presence.typing.empty());
  // A reaction (from memory or the store) is refused too; the group room stays open to both.
  alice.send(command::send, {{"destination", "/app/chat.react"}, {"receipt", "r"}},
             R"({"roomId":12,"targetId":1,"emoji":"👍"})");
  EXPECT_EQ(nlohmann::json::parse(alice.next().body)["code"], "blocked");
  alice.send(command::send, {{"destination", "/topic/room.10"}, {"receipt", "g"}}, "hello group");
  EXPECT_EQ(h.log.messages.size(), 2u);

  // Unblocked: the cached gate is dropped, the store decides (and allows) the next SEND.
  const auto before_unblock = h.dir.membership_lookups + h.dir.context_lookups;
  h.dir.blocks.clear();
  h.change(2, 1, false);
  bob.send(command::send, {{"destination", "/topic/room.12"}, {"receipt", "y"}}, "sorry");
  EXPECT_EQ(h.log.messages.size(), 3u);
  EXPECT_EQ(h.dir.membership_lookups + h.dir.context_lookups, before_unblock + 1);
}

TEST(blocks_direct, a_block_the_store_knows_at_connect_refuses_without_a_bus_message) {
  blocks_harness h;
  h.dir.rooms_on_connect = true;
  h.dir.blocks = {{1, 2}};
  auto bob = h.connect(2);
  bob.send(command::send, {{"destination", "/app/chat.send"}, {"receipt", "q"}}, R"({"roomId":12,"content":"x"})");
  const auto e = bob.next();
  EXPECT_EQ(e.cmd, command::error);  // no errors subscription: ERROR that keeps the session
  EXPECT_EQ(*e.get("message"), "blocked");
  EXPECT_EQ(*e.get("session-closes"), "false");
  EXPECT_TRUE(h.log.messages.empty());
}

TEST(blocks_rules, check_room_event_refuses_what_adds_to_a_blocked_direct_room) {
  chatd::target_context ctx;
  ctx.room_exists = ctx.member = true;
  ctx.direct_peer = 2;
  ctx.blocked = true;
  ctx.target = chatd::target_message{1, 2};
  auto event = message_by(1, -1, "x", 12);
  EXPECT_EQ(chatd::check_room_event(event, ctx, epoch_ms)->code, "blocked");
  for (const auto kind : {proto::event_kind::edited, proto::event_kind::reaction_added, proto::event_kind::pinned}) {
    event.event = kind;
    event.target_id = 1;
    EXPECT_EQ(chatd::check_room_event(event, ctx, epoch_ms)->status, 403);
  }
  ctx.role = proto::room_role::admin;
  for (const auto kind :
       {proto::event_kind::deleted, proto::event_kind::reaction_removed, proto::event_kind::unpinned}) {
    event.event = kind;
    auto refusal = chatd::check_room_event(event, ctx, epoch_ms);
    EXPECT_TRUE(!refusal || refusal->code != "blocked") << proto::to_string(kind);
  }
  ctx.blocked = false;
  event.event = proto::event_kind::message;
  EXPECT_FALSE(chatd::check_room_event(event, ctx, epoch_ms));
}

}  // namespace
}  // namespace chat::gateway::test::block_tests
