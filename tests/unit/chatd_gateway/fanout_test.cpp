// fanout_hub (channel bookkeeping, arming, presence dedupe), user_registry (limits), names,
// WebSocket subprotocol choice.
#include "fakes.hpp"

#include "gateway/ws_transport.hpp"

#include <chat/proto/names.hpp>

#include <algorithm>
#include <cstdio>

using namespace std::chrono_literals;

namespace chat::gateway::test {
namespace {

struct recording_target final : fanout_target {
  std::vector<std::shared_ptr<const fanout_event>> events;
  std::vector<channel_key> armed_keys;
  std::vector<std::string> nicknames;
  void deliver(std::shared_ptr<const fanout_event> e) override { events.push_back(std::move(e)); }
  void armed(const channel_key& k) override { armed_keys.push_back(k); }
  void nickname_changed(std::string nickname) override { nicknames.push_back(std::move(nickname)); }
};

struct recording_listener final : room_event_listener {
  std::vector<std::pair<std::int64_t, std::string>> notices;  // (user, event name)
  std::vector<std::int64_t> memberships;
  void on_room_event(const proto::chat_message&) override {}
  void on_membership(std::int64_t user_id, const proto::room_membership_event&) override {
    memberships.push_back(user_id);
  }
  void on_read(std::int64_t, std::int64_t, std::int64_t) override {}
  void on_notice(std::int64_t user_id, std::string_view event, std::string_view) override {
    notices.emplace_back(user_id, std::string(event));
  }
};

constexpr std::string_view message_json =
    R"({"id":5,"messageKey":"0b8f6c3e-2f7a-4c5e-9d1a-3b6e8f0c2d4a","roomId":7,"senderId":1,)"
    R"("senderNickname":"n","content":"c","type":"TEXT","createdAt":"2026-11-21T12:00:00.000Z"})";

TEST(fanout_hub, subscribes_on_first_join_and_unsubscribes_after_last_leave) {
  fake_control control;
  fanout_hub hub;
  hub.set_control(&control);
  auto a = std::make_shared<recording_target>();
  auto b = std::make_shared<recording_target>();
  const channel_key room{channel_kind::room, 7};
  const channel_key typing{channel_kind::typing, 7};
  hub.join(room, a);
  hub.join(room, b);
  hub.join(typing, a);
  EXPECT_EQ(control.ops, (std::vector<std::string>{"+chat:room:7", "+chat:typing:7"}));
  hub.leave(room, a.get());
  EXPECT_EQ(control.ops.size(), 2u);
  hub.leave(room, b.get());
  EXPECT_EQ(control.ops.back(), "-chat:room:7");
  EXPECT_EQ(hub.channels(), std::vector<std::string>{"chat:typing:7"});
}

TEST(fanout_hub, armed_now_or_when_the_bus_confirms) {
  fanout_hub hub;
  auto a = std::make_shared<recording_target>();
  auto b = std::make_shared<recording_target>();
  const channel_key room{channel_kind::room, 7};
  hub.join(room, a);
  EXPECT_TRUE(a->armed_keys.empty());
  hub.on_armed("chat:room:7");
  EXPECT_EQ(a->armed_keys.size(), 1u);
  hub.join(room, b);  // armed already
  EXPECT_EQ(b->armed_keys.size(), 1u);
  hub.on_disconnected();
  auto c = std::make_shared<recording_target>();
  hub.join(room, c);
  EXPECT_TRUE(c->armed_keys.empty());
  hub.on_armed("chat:room:7");
  EXPECT_EQ(c->armed_keys.size(), 1u);
  EXPECT_EQ(a->armed_keys.size(), 1u) << "members armed before are not told again";
}

TEST(fanout_hub, one_event_shared_by_all_and_dead_targets_skipped) {
  fanout_hub hub;
  auto a = std::make_shared<recording_target>();
  auto b = std::make_shared<recording_target>();
  const channel_key room{channel_kind::room, 7};
  hub.join(room, a);
  hub.join(room, b);
  {
    auto gone = std::make_shared<recording_target>();
    hub.join(room, gone);
  }
  hub.on_room_message(7, message_json);
  ASSERT_EQ(a->events.size(), 1u);
  ASSERT_EQ(b->events.size(), 1u);
  EXPECT_EQ(a->events[0], b->events[0]);
  EXPECT_EQ(a->events[0]->message_id, "5");
  const std::string& tail = *a->events[0]->tail;
  EXPECT_TRUE(tail.starts_with(
      "destination:/topic/room.7\nchat-event:message\ncontent-type:application/json\ncontent-length:"));
  EXPECT_TRUE(tail.ends_with(std::string(message_json) + '\0'));

  hub.on_room_message(7, "not json");
  hub.on_room_message(8, message_json);  // published on another room's channel
  EXPECT_EQ(a->events.size(), 1u);
  EXPECT_EQ(hub.dropped_payloads(), 2u);
}

TEST(fanout_hub, presence_goes_to_watchers_once_per_change) {
  fanout_hub hub;
  auto w = std::make_shared<recording_target>();
  hub.watch({1, 2}, w);
  hub.on_presence(R"({"userId":1,"status":"ONLINE","at":"2026-11-21T12:00:00.000Z"})");
  hub.on_presence(R"({"userId":1,"status":"ONLINE","at":"2026-11-21T12:00:01.000Z"})");
  hub.on_presence_expired(1, epoch_ms);
  hub.on_presence(R"({"userId":1,"status":"OFFLINE","at":"2026-11-21T12:00:02.000Z"})");
  hub.on_presence(R"({"userId":3,"status":"ONLINE","at":"2026-11-21T12:00:00.000Z"})");
  ASSERT_EQ(w->events.size(), 2u);
  EXPECT_NE(w->events[1]->tail->find(R"("status":"OFFLINE")"), std::string::npos);
  hub.unwatch({1, 2}, w.get());
  EXPECT_EQ(hub.watched_users(), 0u);
}

TEST(user_registry, token_buckets) {
  fake_clock clock;
  user_registry users(user_limits{.max_sessions = 1, .rate_per_s = 2, .burst = 2, .disconnect_factor = 2});
  auto now = clock.now();
  EXPECT_EQ(users.take_send(1, now), send_verdict::allowed);
  EXPECT_EQ(users.take_send(1, now), send_verdict::allowed);
  EXPECT_EQ(users.take_send(1, now), send_verdict::limited);
  EXPECT_EQ(users.take_send(2, now), send_verdict::allowed) << "per user";
  now += 500ms;  // one token back
  EXPECT_EQ(users.take_send(1, now), send_verdict::allowed);
  // The disconnect bucket (capacity 4, 4/s) counts every attempt: 4 - 3 + 2 refilled = 3.
  EXPECT_EQ(users.take_send(1, now), send_verdict::limited);
  EXPECT_EQ(users.take_send(1, now), send_verdict::limited);
  EXPECT_EQ(users.take_send(1, now), send_verdict::disconnect);
  EXPECT_TRUE(users.open_session(3, now));
  EXPECT_FALSE(users.open_session(3, now));
  users.close_session(3, now);
  users.sweep(now + 10s);
  EXPECT_EQ(users.tracked_users(), 0u);
}

TEST(user_registry, typing_throttle_per_user_and_room) {
  fake_clock clock;
  user_registry users(user_limits{});
  const auto now = clock.now();
  EXPECT_TRUE(users.take_typing(1, 7, now));
  EXPECT_FALSE(users.take_typing(1, 7, now + 999ms));
  EXPECT_TRUE(users.take_typing(1, 8, now));
  EXPECT_TRUE(users.take_typing(2, 7, now));
  EXPECT_TRUE(users.take_typing(1, 7, now + 1000ms));
}

TEST(names, typing_channel) {
  EXPECT_EQ(proto::typing_channel(42), "chat:typing:42");
  EXPECT_EQ(proto::parse_typing_channel("chat:typing:42"), 42);
  EXPECT_FALSE(proto::parse_typing_channel("chat:typing:042"));
  EXPECT_FALSE(proto::parse_typing_channel("chat:room:42"));
  EXPECT_EQ(parse_channel_name("chat:room:9"), (channel_key{channel_kind::room, 9}));
  EXPECT_EQ(parse_channel_name("chat:typing:9"), (channel_key{channel_kind::typing, 9}));
  EXPECT_EQ(parse_channel_name("chat:user:9"), (channel_key{channel_kind::user, 9}));
  EXPECT_EQ(channel_name(channel_key{channel_kind::user, 9}), "chat:user:9");
}

// Every room event is a MESSAGE with chat-event:<its wire name> (docs/stomp.md "Room events").
TEST(fanout_hub, room_events_carry_their_kind_in_the_chat_event_header) {
  fanout_hub hub;
  auto a = std::make_shared<recording_target>();
  hub.join(channel_key{channel_kind::room, 7}, a);
  const std::string edited =
      R"({"id":6,"event":"message.edited","messageKey":"1b8f6c3e-2f7a-4c5e-9d1a-3b6e8f0c2d4a","roomId":7,)"
      R"("senderId":1,"senderNickname":"n","targetId":5,"content":"new","createdAt":"2026-11-21T12:00:00.000Z"})";
  const std::string reaction =
      R"({"id":7,"event":"reaction.added","messageKey":"2b8f6c3e-2f7a-4c5e-9d1a-3b6e8f0c2d4a","roomId":7,)"
      R"("senderId":1,"senderNickname":"n","targetId":5,"emoji":"👍","createdAt":"2026-11-21T12:00:00.000Z"})";
  hub.on_room_message(7, edited);
  hub.on_room_message(7, reaction);
  ASSERT_EQ(a->events.size(), 2u);
  EXPECT_NE(a->events[0]->tail->find("\nchat-event:message.edited\n"), std::string::npos) << *a->events[0]->tail;
  EXPECT_NE(a->events[1]->tail->find("\nchat-event:reaction.added\n"), std::string::npos);
  EXPECT_EQ(a->events[0]->message_id, "6");
}

// A read mark on chat:room:{id} reaches the room's subscribers as chat-event:read, with the
// r<room>-<user>-<mark> message-id; it is not recorded as a message and needs no chat-message parse.
TEST(fanout_hub, read_events_go_to_the_room_as_chat_event_read) {
  chatd::recent_messages recent;
  fanout_hub hub;
  hub.set_recent(&recent);
  auto a = std::make_shared<recording_target>();
  hub.join(channel_key{channel_kind::room, 7}, a);
  const std::string read = R"({"event":"read","roomId":7,"userId":3,"lastReadMessageId":1099511627781})";
  hub.on_room_message(7, read);
  ASSERT_EQ(a->events.size(), 1u);
  const auto& e = *a->events[0];
  EXPECT_EQ(e.kind, event_kind::room);
  EXPECT_TRUE(e.read_mark);
  EXPECT_EQ(e.room_id, 7);
  EXPECT_EQ(e.user_id, 3);
  EXPECT_EQ(e.message_id, "r7-3-1099511627781");
  EXPECT_EQ(e.sent_at_ms, 0);
  EXPECT_EQ(e.departed_user, 0);
  EXPECT_TRUE(e.tail->starts_with("destination:/topic/room.7\nchat-event:read\ncontent-type:application/json\n"))
      << *e.tail;
  EXPECT_TRUE(e.tail->ends_with(read + '\0'));
  EXPECT_EQ(hub.dropped_payloads(), 0u);

  // Malformed, or published on another room's channel: dropped.
  hub.on_room_message(7, R"({"event":"read","roomId":7,"userId":0,"lastReadMessageId":1})");
  hub.on_room_message(7, R"({"event":"read","roomId":8,"userId":3,"lastReadMessageId":1})");
  hub.on_room_message(7, R"({"event":"read",)");
  EXPECT_EQ(a->events.size(), 1u);
  EXPECT_EQ(hub.dropped_payloads(), 3u);
  // Messages still go through, and are not taken for read marks.
  hub.on_room_message(7, message_json);
  ASSERT_EQ(a->events.size(), 2u);
  EXPECT_FALSE(a->events[1]->read_mark);
}

// A room message JSON of room 7 with id `id` (its messageKey varies with it).
std::string room7_message(std::int64_t id) {
  char key[37];
  std::snprintf(key, sizeof key, "0b8f6c3e-2f7a-4c5e-9d1a-%012lld", static_cast<long long>(id));
  return R"({"id":)" + std::to_string(id) + R"(,"messageKey":")" + key +
         R"(","roomId":7,"senderId":1,"senderNickname":"n","content":"c","type":"TEXT",)"
         R"("createdAt":"2026-11-21T12:00:00.000Z"})";
}

std::vector<std::int64_t> ids_of(const std::vector<std::shared_ptr<const fanout_event>>& events) {
  std::vector<std::int64_t> out;
  for (const auto& e : events) out.push_back(e->id);
  return out;
}

// --recovery-memory: a room channel remembers its newest room events while armed; a recovery is
// answered from them only when nothing after since-id can be missing.
TEST(fanout_hub, replays_from_memory_only_what_it_has_without_a_gap) {
  fanout_hub hub;
  hub.set_replay_depth(4);
  auto a = std::make_shared<recording_target>();
  hub.join(channel_key{channel_kind::room, 7}, a);
  hub.on_room_message(7, room7_message(1));  // before the bus confirmed: not remembered
  EXPECT_FALSE(hub.replay_since(7, 0, 100)) << "not armed";
  hub.on_armed("chat:room:7");
  EXPECT_FALSE(hub.replay_since(7, 0, 100)) << "nothing remembered yet";
  for (const int id : {2, 3, 4}) hub.on_room_message(7, room7_message(id));
  hub.on_room_message(7, R"({"event":"read","roomId":7,"userId":3,"lastReadMessageId":3})");  // no room event
  EXPECT_FALSE(hub.replay_since(7, 1, 100)) << "2 is the oldest it has: 1's successors may be missing";
  ASSERT_TRUE(hub.replay_since(7, 2, 100));
  EXPECT_EQ(ids_of(*hub.replay_since(7, 2, 100)), (std::vector<std::int64_t>{3, 4}));
  EXPECT_EQ(ids_of(*hub.replay_since(7, 4, 100)), std::vector<std::int64_t>{}) << "nothing missed";
  EXPECT_EQ(ids_of(*hub.replay_since(7, 99, 100)), std::vector<std::int64_t>{});
  EXPECT_FALSE(hub.replay_since(7, 2, 1)) << "more than the limit: the store decides";
  const auto delivered_4 = std::find_if(a->events.begin(), a->events.end(), [](const auto& e) { return e->id == 4; });
  ASSERT_NE(delivered_4, a->events.end());
  EXPECT_EQ((*hub.replay_since(7, 3, 100))[0], *delivered_4) << "the very event delivered live";

  for (const int id : {5, 6, 7}) hub.on_room_message(7, room7_message(id));  // depth 4: 4 5 6 7
  EXPECT_FALSE(hub.replay_since(7, 3, 100)) << "3's successor 4 is the oldest left, but 3 is gone";
  EXPECT_EQ(ids_of(*hub.replay_since(7, 4, 100)), (std::vector<std::int64_t>{5, 6, 7}));

  hub.on_room_message(7, room7_message(6));  // published again by a rebalanced consumer
  EXPECT_EQ(ids_of(*hub.replay_since(7, 5, 100)), (std::vector<std::int64_t>{6, 7})) << "in order, each once";

  hub.on_disconnected();  // what is published meanwhile never reaches this node
  EXPECT_FALSE(hub.replay_since(7, 5, 100));
  hub.on_armed("chat:room:7");
  EXPECT_FALSE(hub.replay_since(7, 5, 100)) << "forgotten: the gap may be in it";
  hub.on_room_message(7, room7_message(9));
  EXPECT_FALSE(hub.replay_since(7, 7, 100)) << "8 may have been published while disconnected";
  EXPECT_EQ(ids_of(*hub.replay_since(7, 9, 100)), std::vector<std::int64_t>{});

  EXPECT_FALSE(hub.replay_since(8, 0, 100)) << "a room not joined here";
  hub.leave(channel_key{channel_kind::room, 7}, a.get());
  EXPECT_FALSE(hub.replay_since(7, 9, 100)) << "left: forgotten";
}

TEST(fanout_hub, remembers_nothing_with_depth_zero) {
  fanout_hub hub;
  auto a = std::make_shared<recording_target>();
  hub.join(channel_key{channel_kind::room, 7}, a);
  hub.on_armed("chat:room:7");
  hub.on_room_message(7, room7_message(1));
  hub.on_room_message(7, room7_message(2));
  EXPECT_FALSE(hub.replay_since(7, 1, 100));
  EXPECT_EQ(a->events.size(), 2u);
}

// chat:user:{id} reaches that user's joined sessions only; malformed payloads are dropped.
TEST(fanout_hub, user_events_go_to_the_users_channel) {
  fake_control control;
  fanout_hub hub;
  hub.set_control(&control);
  auto mine = std::make_shared<recording_target>();
  auto other = std::make_shared<recording_target>();
  hub.join(channel_key{channel_kind::user, 1}, mine);
  hub.join(channel_key{channel_kind::user, 2}, other);
  EXPECT_EQ(control.ops, (std::vector<std::string>{"+chat:user:1", "+chat:user:2"}));
  hub.on_user_event(1, R"({"event":"message.hidden","roomId":10,"messageId":5})");
  hub.on_user_event(1, R"({"event":"message.shown","roomId":10,"messageId":5})");
  ASSERT_EQ(mine->events.size(), 1u);
  EXPECT_TRUE(other->events.empty());
  EXPECT_EQ(mine->events[0]->kind, event_kind::user);
  EXPECT_EQ(mine->events[0]->user_id, 1);
  EXPECT_TRUE(mine->events[0]->tail->starts_with("destination:/user/queue/notifications\nchat-event:message.hidden\n"));
  EXPECT_EQ(hub.dropped_payloads(), 1u);
  hub.leave(channel_key{channel_kind::user, 1}, mine.get());
  EXPECT_EQ(control.ops.back(), "-chat:user:1");
}

TEST(fanout_hub, friend_events_go_to_notifications_and_the_listener) {
  fanout_hub hub;
  recording_listener listener;
  hub.set_listener(&listener);
  auto mine = std::make_shared<recording_target>();
  hub.join(channel_key{channel_kind::user, 1}, mine);
  const std::string requested =
      R"({"event":"friend.requested","requestId":4,"fromUserId":2,"toUserId":1,"at":"2026-11-21T12:00:00.000Z"})";
  hub.on_user_event(1, requested);
  hub.on_user_event(1, R"({"event":"friend.removed","fromUserId":2,"toUserId":1,"at":"2026-11-21T12:00:00.000Z"})");
  ASSERT_EQ(mine->events.size(), 2u);
  EXPECT_TRUE(mine->events[0]->tail->starts_with(
      "destination:/user/queue/notifications\nchat-event:friend.requested\ncontent-type:application/json\n"))
      << *mine->events[0]->tail;
  EXPECT_TRUE(mine->events[0]->tail->ends_with(requested + '\0'));
  EXPECT_TRUE(mine->events[1]->tail->starts_with("destination:/user/queue/notifications\nchat-event:friend.removed\n"));
  EXPECT_NE(mine->events[0]->message_id, mine->events[1]->message_id);
  EXPECT_EQ(listener.notices,
            (std::vector<std::pair<std::int64_t, std::string>>{{1, "friend.requested"}, {1, "friend.removed"}}));
  // Malformed friend events are dropped, and nobody hears of them; membership events still go
  // to the listener only.
  hub.on_user_event(1, R"({"event":"friend.requested","requestId":0,"fromUserId":2,"toUserId":1,"at":"x"})");
  hub.on_user_event(1, R"({"event":"room.added","roomId":9})");
  EXPECT_EQ(mine->events.size(), 2u);
  EXPECT_EQ(listener.notices.size(), 2u);
  EXPECT_EQ(listener.memberships, std::vector<std::int64_t>{1});
  EXPECT_EQ(hub.dropped_payloads(), 1u);
}

TEST(fanout_hub, a_nickname_change_reaches_every_session_of_the_user_here) {
  fake_control control;
  fanout_hub hub;
  hub.set_control(&control);
  auto a = std::make_shared<recording_target>();
  auto b = std::make_shared<recording_target>();
  auto other = std::make_shared<recording_target>();
  hub.add_user_session(1, a);
  hub.add_user_session(1, b);
  hub.add_user_session(1, b);  // twice: once
  hub.add_user_session(2, other);
  EXPECT_TRUE(control.ops.empty()) << "no bus channel per user: chat:profile is one channel for all";
  hub.on_profile(R"({"event":"profile.updated","userId":1,"nickname":"Ann B"})");
  EXPECT_EQ(a->nicknames, std::vector<std::string>{"Ann B"});
  EXPECT_EQ(b->nicknames, std::vector<std::string>{"Ann B"});
  EXPECT_TRUE(other->nicknames.empty());
  hub.remove_user_session(1, a.get());
  hub.on_profile(R"({"event":"profile.updated","userId":1,"nickname":"Ann C"})");
  EXPECT_EQ(a->nicknames.size(), 1u);
  EXPECT_EQ(b->nicknames, (std::vector<std::string>{"Ann B", "Ann C"}));
  hub.on_profile(R"({"event":"profile.updated","userId":1,"nickname":""})");
  hub.on_profile("nonsense");
  EXPECT_EQ(b->nicknames.size(), 2u);
  EXPECT_EQ(hub.dropped_payloads(), 2u);
  EXPECT_TRUE(a->events.empty() && b->events.empty()) << "no frame to the client";
}

TEST(ws_transport, subprotocol_is_the_clients_best) {
  EXPECT_EQ(choose_stomp_subprotocol("v10.stomp, v12.stomp,v11.stomp"), "v12.stomp");
  EXPECT_EQ(choose_stomp_subprotocol("v11.stomp"), "v11.stomp");
  EXPECT_EQ(choose_stomp_subprotocol("mqtt, v10.stomp"), "v10.stomp");
  EXPECT_FALSE(choose_stomp_subprotocol("mqtt"));
  EXPECT_FALSE(choose_stomp_subprotocol(""));
}

}  // namespace
}  // namespace chat::gateway::test
