// room_list (a user's room list in memory: lastMessage, unreadCount, memberCount, order) and
// room_feed (loading once, joining the room channels, room.added / room.updated / room.removed,
// read marks, STOMP arming, SSE snapshot and replay).
#include "fakes.hpp"

#include "gateway/room_feed.hpp"
#include "gateway/room_list.hpp"

#include <chat/proto/names.hpp>

using namespace std::chrono_literals;

namespace chat::gateway::test {
namespace {

constexpr std::int64_t me = 1;
constexpr std::int64_t other = 2;

proto::chat_message room_message(std::int64_t room, std::int64_t id, std::int64_t sender, std::string content = "hi",
                                 std::int64_t at_ms = 1'000'000) {
  proto::chat_message m;
  m.id = id;
  m.message_key = "0b8f6c3e-2f7a-4c5e-9d1a-3b6e8f0c2d4a";
  m.room_id = room;
  m.sender_id = sender;
  m.sender_nickname = sender == me ? "me" : "bob";
  m.content = std::move(content);
  m.created_at_ms = at_ms;
  return m;
}

proto::room_summary row(std::int64_t id, std::int64_t unread, std::optional<proto::chat_message> last = {},
                        std::int64_t members = 2) {
  return {id, proto::room_type::group, "room" + std::to_string(id), members, unread, std::move(last)};
}

TEST(room_list, counts_others_messages_once_and_ignores_what_the_store_had) {
  room_list list(me);
  list.load({row(7, 2, room_message(7, 100, other))});
  EXPECT_EQ(list.apply(room_message(7, 100, other)), nullptr);  // the store's newest: counted already
  EXPECT_EQ(list.apply(room_message(7, 90, other)), nullptr);
  const auto* r = list.apply(room_message(7, 101, other, "new"));
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->unread_count, 3);
  EXPECT_EQ(r->last_message->content, "new");
  r = list.apply(room_message(7, 102, me, "mine"));
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->unread_count, 3);  // own messages are not unread
  EXPECT_EQ(r->last_message->id, 102);
  EXPECT_EQ(list.apply(room_message(8, 1, other)), nullptr);  // not a room of the list
}

TEST(room_list, catch_up_takes_the_stores_row_only_when_it_is_newer) {
  room_list list(me);
  list.load({row(7, 1, room_message(7, 100, other)), row(8, 0)});
  EXPECT_EQ(list.catch_up(row(7, 1, room_message(7, 100, other))), nullptr) << "the same";
  EXPECT_EQ(list.catch_up(row(9, 5, room_message(9, 1, other))), nullptr) << "not in the list";
  EXPECT_EQ(list.catch_up(row(8, 0)), nullptr) << "no message";
  const auto* r = list.catch_up(row(7, 3, room_message(7, 102, other, "missed")));
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->unread_count, 3);
  EXPECT_EQ(r->last_message->content, "missed");
  EXPECT_EQ(list.apply(room_message(7, 101, other)), nullptr) << "counted by the store's row";
  r = list.apply(room_message(7, 103, other));
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->unread_count, 4);
  EXPECT_EQ(list.catch_up(row(7, 3, room_message(7, 102, other))), nullptr) << "the list is ahead";
  EXPECT_EQ(list.snapshot().front().id, 7);
}

TEST(room_list, read_mark_recounts_what_it_knows) {
  room_list list(me);
  list.load({row(7, 2, room_message(7, 100, other))});
  list.apply(room_message(7, 101, other));
  list.apply(room_message(7, 102, other));
  EXPECT_EQ(list.find(7)->unread_count, 4);
  // Below every live one: the store's two stay (their ids are unknown).
  EXPECT_EQ(list.read(7, 50), nullptr);
  const auto* r = list.read(7, 101);  // covers a live one: the older unknown ones too
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->unread_count, 1);
  r = list.read(7, 102);
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->unread_count, 0);
  EXPECT_EQ(list.read(7, 102), nullptr);  // nothing changed
  // A mark at the newest message clears the store's count as well.
  room_list fresh(me);
  fresh.load({row(9, 5, room_message(9, 40, other))});
  ASSERT_NE(fresh.read(9, 40), nullptr);
  EXPECT_EQ(fresh.find(9)->unread_count, 0);
}

TEST(room_list, bounded_tracking_keeps_the_count) {
  room_list list(me);
  list.load({row(7, 0)});
  const auto n = static_cast<std::int64_t>(room_list::max_tracked_unread) + 10;
  for (std::int64_t i = 0; i < n; ++i) list.apply(room_message(7, 1000 + i, other));
  EXPECT_EQ(list.find(7)->unread_count, n);
  ASSERT_NE(list.read(7, 1000 + n - 1), nullptr);
  EXPECT_EQ(list.find(7)->unread_count, 0);
}

TEST(room_list, edits_deletes_and_membership_notices) {
  room_list list(me);
  list.load({row(7, 0, room_message(7, 100, other, "old"), 3)});
  const auto* r = list.apply([] {
    auto e = room_message(7, 101, other, "fixed");
    e.event = proto::event_kind::edited;
    e.target_id = 100;
    return e;
  }());
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->last_message->content, "fixed");
  r = list.apply([] {
    auto e = room_message(7, 102, other, "");
    e.event = proto::event_kind::deleted;
    e.target_id = 100;
    return e;
  }());
  ASSERT_NE(r, nullptr);
  ASSERT_TRUE(r->last_message->state);
  EXPECT_TRUE(r->last_message->state->deleted);
  EXPECT_EQ(r->unread_count, 0);  // events other than messages are not unread
  auto joined = proto::membership_notice(7, 3, "carl", proto::membership_change::joined);
  joined.id = 103;
  r = list.apply(joined);
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->member_count, 4);
  auto left = proto::membership_notice(7, 3, "carl", proto::membership_change::left);
  left.id = 104;
  EXPECT_EQ(list.apply(left)->member_count, 3);
  auto mine = proto::membership_notice(7, me, "me", proto::membership_change::joined);
  mine.id = 105;
  EXPECT_EQ(list.apply(mine)->member_count, 3);  // the store's count has the user already
}

TEST(room_list, snapshot_is_most_recent_activity_first) {
  room_list list(me);
  // The store's order: newest first, a room without messages keeps its place.
  list.load(
      {row(1, 0, room_message(1, 10, other, "a", 3000)), row(2, 0), row(3, 0, room_message(3, 5, other, "b", 1000))});
  auto ids = [&] {
    std::vector<std::int64_t> out;
    for (const auto& r : list.snapshot()) out.push_back(r.id);
    return out;
  };
  EXPECT_EQ(ids(), (std::vector<std::int64_t>{1, 2, 3}));
  list.apply(room_message(3, 6, other, "c", 5000));
  EXPECT_EQ(ids(), (std::vector<std::int64_t>{3, 1, 2}));
  list.add(row(4, 0), 9000);
  EXPECT_EQ(ids(), (std::vector<std::int64_t>{4, 3, 1, 2}));
  EXPECT_TRUE(list.remove(1));
  EXPECT_FALSE(list.remove(1));
  EXPECT_EQ(ids(), (std::vector<std::int64_t>{4, 3, 2}));
}

TEST(room_list, a_blocked_users_messages_neither_show_nor_count) {
  constexpr std::int64_t third = 3;
  room_list list(me);
  list.load({row(7, 0, room_message(7, 100, third, "before"))});
  list.set_blocks({other});
  EXPECT_EQ(list.apply(room_message(7, 101, other, "hidden")), nullptr);
  auto edit = room_message(7, 102, other, "hidden too");
  edit.event = proto::event_kind::edited;
  edit.target_id = 100;
  EXPECT_EQ(list.apply(edit), nullptr);
  EXPECT_EQ(list.find(7)->last_message->content, "before");
  EXPECT_EQ(list.find(7)->unread_count, 0);
  auto notice = room_message(7, 103, other, "bob left");
  notice.type = proto::message_type::system;
  EXPECT_NE(list.apply(notice), nullptr) << "SYSTEM notices stay";

  // Lifted: their next message shows and counts.
  list.block_changed(other, false);
  const auto* r = list.apply(room_message(7, 104, other, "visible"));
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->last_message->content, "visible");
  EXPECT_EQ(r->unread_count, 2);

  // Blocked again: a row read after the change replaces a lastMessage that is theirs...
  list.block_changed(other, true);
  EXPECT_EQ(list.apply(room_message(7, 105, other)), nullptr);
  EXPECT_EQ(list.block_refresh(row(7, 2, room_message(7, 103, third, "stored")), third, true), nullptr)
      << "a change about someone else";
  r = list.block_refresh(row(7, 2, room_message(7, 100, third, "before")), other, true);
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->last_message->content, "before");
  EXPECT_EQ(r->unread_count, 2) << "the count stays";
  EXPECT_EQ(list.block_refresh(row(7, 2, room_message(7, 100, third, "before")), other, true), nullptr);
  // ...and after a lift, a stored message of theirs newer than the list's shows.
  list.block_changed(other, false);
  EXPECT_EQ(list.block_refresh(row(7, 2, room_message(7, 99, other)), other, false), nullptr) << "older";
  r = list.block_refresh(row(7, 2, room_message(7, 105, other, "was hidden")), other, false);
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->last_message->content, "was hidden");
}

struct recording_target final : fanout_target {
  std::vector<std::shared_ptr<const fanout_event>> events;
  std::vector<channel_key> armed_keys;
  void deliver(std::shared_ptr<const fanout_event> e) override { events.push_back(std::move(e)); }
  void armed(const channel_key& k) override { armed_keys.push_back(k); }
  std::string body(std::size_t i) const {
    const auto& tail = *events.at(i)->tail;
    const auto start = tail.find("\n\n") + 2;
    return tail.substr(start, tail.size() - start - 1);
  }
  proto::room_feed_event parsed(std::size_t i) const {
    proto::room_feed_event e;
    EXPECT_FALSE(proto::parse_room_feed_event(body(i), e)) << body(i);
    return e;
  }
};

struct recording_sink final : room_feed_sink {
  std::vector<std::shared_ptr<const room_feed_item>> items;
  bool closed = false;
  void feed_event(const std::shared_ptr<const room_feed_item>& item) override { items.push_back(item); }
  void feed_closed() override { closed = true; }
};

struct feed_fixture : ::testing::Test {
  fake_clock clock;
  fake_directory dir;
  fake_control control;
  fanout_hub hub;
  std::shared_ptr<room_feed> feed;

  feed_fixture() {
    hub.set_control(&control);
    feed = std::make_shared<room_feed>(hub, dir, clock, room_feed_settings{});
    hub.set_listener(feed.get());
  }
  void arm_all() {
    for (const auto& c : hub.channels()) hub.on_armed(c);
  }
  void publish(const proto::chat_message& m) {
    std::string json;
    proto::append_json(m, json);
    hub.on_room_message(m.room_id, json);
  }
  void membership(std::int64_t user, std::int64_t room, bool added) {
    std::string json;
    proto::append_json(proto::room_membership_event{room, added}, json);
    hub.on_user_event(user, json);
  }
};

TEST_F(feed_fixture, loads_once_joins_channels_and_turns_messages_into_updates) {
  dir.room_rows[me] = {row(7, 1, room_message(7, 100, other)), row(8, 0)};
  auto a = std::make_shared<recording_target>();
  auto b = std::make_shared<recording_target>();
  feed->watch(me, a);
  feed->watch(me, b);
  EXPECT_EQ(dir.room_list_lookups, 1);
  EXPECT_TRUE(hub.is_joined({channel_kind::user, me}));
  EXPECT_TRUE(hub.is_joined({channel_kind::room, 7}));
  EXPECT_TRUE(hub.is_joined({channel_kind::room, 8}));
  EXPECT_TRUE(a->armed_keys.empty());  // not before the bus confirmed the channels
  arm_all();
  ASSERT_EQ(a->armed_keys.size(), 1u);
  EXPECT_EQ(a->armed_keys[0], (channel_key{channel_kind::room_list, me}));

  publish(room_message(7, 101, other, "one"));
  publish(room_message(7, 102, other, "two"));
  ASSERT_EQ(a->events.size(), 2u);
  ASSERT_EQ(b->events.size(), 2u);
  EXPECT_EQ(a->events[0]->kind, event_kind::room_list);
  EXPECT_EQ(a->events[0]->user_id, me);
  EXPECT_EQ(a->events[0]->tail, b->events[0]->tail);  // one frame for every session of the user
  EXPECT_NE(a->events[0]->tail->find("destination:/user/queue/rooms\n"), std::string::npos);
  EXPECT_NE(a->events[0]->tail->find("chat-event:room.updated\n"), std::string::npos);
  auto e = a->parsed(1);
  EXPECT_EQ(e.kind, proto::room_feed_kind::updated);
  EXPECT_EQ(e.room.id, 7);
  EXPECT_EQ(e.room.unread_count, 3);
  EXPECT_EQ(e.room.last_message->content, "two");
  EXPECT_EQ(dir.room_list_lookups, 2);  // the load, one more read once armed; no query per message

  // Read marks arrive on the room channel (chat-event:read): only the reader's own list changes.
  auto read_mark = [&](std::int64_t user, std::int64_t last) {
    std::string json;
    proto::append_json(proto::read_event{7, user, last}, json);
    hub.on_room_message(7, json);
  };
  read_mark(other, 102);
  EXPECT_EQ(a->events.size(), 2u);
  read_mark(me, 102);
  ASSERT_EQ(a->events.size(), 3u);
  EXPECT_EQ(a->parsed(2).room.unread_count, 0);

  feed->unwatch(me, a.get());
  feed->unwatch(me, b.get());
  publish(room_message(7, 103, other));
  EXPECT_EQ(a->events.size(), 3u);
  // The state lingers for the replay window, then goes with its channels.
  clock.advance(61s);
  feed->tick();
  EXPECT_EQ(feed->users(), 0u);
  EXPECT_FALSE(hub.is_joined({channel_kind::room, 7}));
  EXPECT_FALSE(hub.is_joined({channel_kind::user, me}));
}

TEST_F(feed_fixture, blocks_load_with_the_list_and_a_block_change_rereads_it) {
  constexpr std::int64_t third = 3;
  dir.room_rows[me] = {row(7, 0, room_message(7, 100, third, "hello"))};
  dir.user_blocks[me] = {other};
  auto a = std::make_shared<recording_target>();
  feed->watch(me, a);
  arm_all();
  const auto lookups = dir.room_list_lookups;
  publish(room_message(7, 101, other, "blocked"));
  EXPECT_TRUE(a->events.empty()) << "the blocked user's message is not the room's lastMessage here";

  // Lifted on some node: the list is read again; the store now shows message 101.
  auto change = [&](bool blocked) {
    std::string json;
    proto::append_json(proto::block_change{me, other, blocked}, json);
    hub.on_block_change(json);
  };
  dir.user_blocks[me] = {};
  dir.room_rows[me] = {row(7, 1, room_message(7, 101, other, "blocked"))};
  change(false);
  EXPECT_EQ(dir.room_list_lookups, lookups + 1);
  ASSERT_EQ(a->events.size(), 1u);
  EXPECT_EQ(a->parsed(0).room.last_message->content, "blocked");
  publish(room_message(7, 102, other, "now visible"));
  ASSERT_EQ(a->events.size(), 2u);

  // Blocked again: their message leaves lastMessage, the newest one of someone else shows.
  dir.user_blocks[me] = {other};
  dir.room_rows[me] = {row(7, 2, room_message(7, 100, third, "hello"))};
  change(true);
  ASSERT_EQ(a->events.size(), 3u);
  EXPECT_EQ(a->parsed(2).room.last_message->content, "hello");
  publish(room_message(7, 103, other, "hidden again"));
  EXPECT_EQ(a->events.size(), 3u);

  // Someone else's block change reads nothing.
  std::string json;
  proto::append_json(proto::block_change{other, me, true}, json);
  hub.on_block_change(json);
  EXPECT_EQ(dir.room_list_lookups, lookups + 2);
}

TEST_F(feed_fixture, membership_events_add_and_remove_rooms) {
  dir.room_rows[me] = {row(7, 0)};
  auto a = std::make_shared<recording_target>();
  feed->watch(me, a);
  arm_all();
  dir.room_rows[me].push_back(row(9, 0, room_message(9, 50, other), 3));
  membership(me, 9, true);
  EXPECT_TRUE(hub.is_joined({channel_kind::room, 9}));
  EXPECT_TRUE(a->events.empty());  // waits for the room's channel
  arm_all();
  ASSERT_EQ(a->events.size(), 1u);
  auto e = a->parsed(0);
  EXPECT_EQ(e.kind, proto::room_feed_kind::added);
  EXPECT_EQ(e.room.id, 9);
  EXPECT_EQ(e.room.member_count, 3);
  publish(room_message(9, 51, other));
  ASSERT_EQ(a->events.size(), 2u);
  EXPECT_EQ(a->parsed(1).room.unread_count, 1);
  membership(me, 9, false);
  ASSERT_EQ(a->events.size(), 3u);
  EXPECT_EQ(a->parsed(2).kind, proto::room_feed_kind::removed);
  EXPECT_EQ(a->body(2), R"({"event":"room.removed","room":{"id":9}})");
  EXPECT_FALSE(hub.is_joined({channel_kind::room, 9}));
  publish(room_message(9, 52, other));
  EXPECT_EQ(a->events.size(), 3u);
  // message.hidden still goes to the notifications channel's sessions, not to the feed.
  membership(other, 9, true);
  EXPECT_EQ(a->events.size(), 3u);
}

// SPEC §16: administration events show as SYSTEM items (lastMessage, unread), a rename changes the
// name, membership events the member count; room.deleted removes the room from every watcher.
TEST_F(feed_fixture, administration_events_update_the_list_and_a_deleted_room_is_removed) {
  dir.room_rows[me] = {row(7, 0, room_message(7, 100, other), 3)};
  auto a = std::make_shared<recording_target>();
  feed->watch(me, a);
  arm_all();
  auto stamp = [](proto::chat_message m, std::int64_t id) {
    m.id = id;
    m.message_key = "0b8f6c3e-2f7a-4c5e-9d1a-3b6e8f0c2d4a";
    m.created_at_ms = 2'000'000 + id;
    return m;
  };
  publish(stamp(proto::room_updated_notice(7, other, "bob", "renamed", std::nullopt), 101));
  ASSERT_EQ(a->events.size(), 1u);
  auto e = a->parsed(0);
  EXPECT_EQ(e.kind, proto::room_feed_kind::updated);
  EXPECT_EQ(e.room.name, "renamed");
  EXPECT_EQ(e.room.unread_count, 1);
  ASSERT_TRUE(e.room.last_message);
  EXPECT_EQ(e.room.last_message->event, proto::event_kind::message) << "the history item, not the event";
  EXPECT_EQ(e.room.last_message->type, proto::message_type::system);
  EXPECT_EQ(e.room.last_message->content, "bob renamed the room to renamed");
  publish(stamp(proto::member_removed_notice(7, me, "me", 3, "carl"), 102));  // removed by me
  ASSERT_EQ(a->events.size(), 2u);
  EXPECT_EQ(a->parsed(1).room.member_count, 2);
  EXPECT_EQ(a->parsed(1).room.unread_count, 1) << "my own notice is not unread";

  publish(stamp(proto::room_deleted_notice(7, other, "bob"), 103));
  ASSERT_EQ(a->events.size(), 3u);
  EXPECT_EQ(a->body(2), R"({"event":"room.removed","room":{"id":7}})");
  EXPECT_FALSE(hub.is_joined({channel_kind::room, 7}));
  membership(me, 7, false);  // the REST path's room.removed afterwards: nothing more
  EXPECT_EQ(a->events.size(), 3u);
}

TEST_F(feed_fixture, added_room_is_announced_after_arm_wait_without_the_bus) {
  dir.room_rows[me] = {};
  auto a = std::make_shared<recording_target>();
  feed->watch(me, a);
  arm_all();
  dir.room_rows[me].push_back(row(9, 0));
  membership(me, 9, true);
  feed->tick();
  EXPECT_TRUE(a->events.empty());
  clock.advance(2s);
  feed->tick();
  ASSERT_EQ(a->events.size(), 1u);
  EXPECT_EQ(a->parsed(0).kind, proto::room_feed_kind::added);
}

TEST_F(feed_fixture, sse_gets_a_snapshot_then_events_and_replays_after_a_reconnect) {
  dir.room_rows[me] = {row(7, 0, room_message(7, 100, other))};
  auto s1 = std::make_shared<recording_sink>();
  ASSERT_TRUE(feed->attach(me, "", s1));
  ASSERT_EQ(s1->items.size(), 1u);
  EXPECT_TRUE(s1->items[0]->snapshot);
  std::vector<proto::room_summary> rooms;
  ASSERT_FALSE(proto::parse_room_list(*s1->items[0]->json, rooms));
  ASSERT_EQ(rooms.size(), 1u);
  arm_all();
  publish(room_message(7, 101, other, "a"));
  ASSERT_EQ(s1->items.size(), 2u);
  const auto seen = feed->event_id(*s1->items[1]);
  feed->detach(me, s1.get());
  publish(room_message(7, 102, other, "b"));
  publish(room_message(7, 103, other, "c"));

  auto s2 = std::make_shared<recording_sink>();
  ASSERT_TRUE(feed->attach(me, seen, s2));
  ASSERT_EQ(s2->items.size(), 2u);  // the two it missed, no snapshot
  EXPECT_FALSE(s2->items[0]->snapshot);
  EXPECT_NE(s2->items[0]->json->find(R"("content":"b")"), std::string::npos);
  EXPECT_NE(s2->items[1]->json->find(R"("content":"c")"), std::string::npos);

  // An unknown or expired id: a snapshot.
  auto s3 = std::make_shared<recording_sink>();
  ASSERT_TRUE(feed->attach(me, "zzzz-1", s3));
  ASSERT_EQ(s3->items.size(), 1u);
  EXPECT_TRUE(s3->items[0]->snapshot);
  clock.advance(61s);
  auto s4 = std::make_shared<recording_sink>();
  ASSERT_TRUE(feed->attach(me, seen, s4));
  ASSERT_EQ(s4->items.size(), 1u);
  EXPECT_TRUE(s4->items[0]->snapshot);

  feed->shutdown();
  EXPECT_TRUE(s2->closed);
  EXPECT_FALSE(feed->attach(me, "", std::make_shared<recording_sink>()));
}

// Friend events (user channel notices) go on the SSE stream in order with the room events and
// are replayed after a reconnect; /user/queue/rooms subscribers do not get them (they come on
// /user/queue/notifications).
TEST_F(feed_fixture, friend_events_go_to_sse_readers_only_and_are_replayed) {
  dir.room_rows[me] = {row(7, 0, room_message(7, 100, other))};
  auto stomp = std::make_shared<recording_target>();
  feed->watch(me, stomp);
  auto s1 = std::make_shared<recording_sink>();
  ASSERT_TRUE(feed->attach(me, "", s1));
  arm_all();
  const std::string requested = R"({"event":"friend.requested","requestId":4,"fromUserId":)" + std::to_string(other) +
                                R"(,"toUserId":)" + std::to_string(me) + R"(,"at":"2026-11-21T12:00:00.000Z"})";
  hub.on_user_event(me, requested);
  publish(room_message(7, 101, other, "a"));
  ASSERT_EQ(s1->items.size(), 3u);  // snapshot, the friend event, the room update
  EXPECT_EQ(s1->items[1]->event, "friend.requested");
  EXPECT_EQ(*s1->items[1]->json, requested);
  EXPECT_EQ(s1->items[2]->event, "room.updated");
  EXPECT_LT(s1->items[1]->seq, s1->items[2]->seq);
  ASSERT_EQ(stomp->events.size(), 1u);  // the room update only
  EXPECT_NE(stomp->events[0]->tail->find("chat-event:room.updated\n"), std::string::npos);

  const auto seen = feed->event_id(*s1->items[0]);
  feed->detach(me, s1.get());
  hub.on_user_event(me, R"({"event":"friend.removed","fromUserId":)" + std::to_string(other) + R"(,"toUserId":)" +
                            std::to_string(me) + R"(,"at":"2026-11-21T12:00:01.000Z"})");
  auto s2 = std::make_shared<recording_sink>();
  ASSERT_TRUE(feed->attach(me, seen, s2));
  ASSERT_EQ(s2->items.size(), 3u);  // what came after the snapshot, the one sent while away too
  EXPECT_EQ(s2->items[0]->event, "friend.requested");
  EXPECT_EQ(s2->items[2]->event, "friend.removed");
  // Another user's notice is not ours.
  hub.on_user_event(other, requested);
  EXPECT_EQ(s2->items.size(), 3u);
}

// A message broadcast between the list's query and the arming of its room's channel reached no
// channel here: the list is read once more when every room is armed.
TEST_F(feed_fixture, a_message_between_the_load_and_the_arming_shows_after_one_more_read) {
  dir.room_rows[me] = {row(7, 1, room_message(7, 100, other)), row(8, 0)};
  auto a = std::make_shared<recording_target>();
  feed->watch(me, a);
  EXPECT_EQ(dir.room_list_lookups, 1);
  // Stored meanwhile, never seen on a channel of this node.
  dir.room_rows[me] = {row(7, 2, room_message(7, 101, other, "in the gap")), row(8, 0)};
  hub.on_armed("chat:user:" + std::to_string(me));
  hub.on_armed("chat:room:7");
  EXPECT_EQ(dir.room_list_lookups, 1) << "not before every room is armed";
  hub.on_armed("chat:room:8");
  EXPECT_EQ(dir.room_list_lookups, 2);
  ASSERT_EQ(a->events.size(), 1u);
  const auto e = a->parsed(0);
  EXPECT_EQ(e.kind, proto::room_feed_kind::updated);
  EXPECT_EQ(e.room.id, 7);
  EXPECT_EQ(e.room.unread_count, 2);
  EXPECT_EQ(e.room.last_message->content, "in the gap");
  // Once: later arming (a reconnect of the bus) does not read it again.
  hub.on_disconnected();
  arm_all();
  EXPECT_EQ(dir.room_list_lookups, 2);
  EXPECT_EQ(a->events.size(), 1u);
}

TEST_F(feed_fixture, unavailable_store_is_retried) {
  dir.down = true;
  auto a = std::make_shared<recording_target>();
  feed->watch(me, a);
  arm_all();
  EXPECT_TRUE(a->armed_keys.empty());
  dir.down = false;
  dir.room_rows[me] = {row(7, 0)};
  clock.advance(1s);
  feed->tick();
  EXPECT_EQ(dir.room_list_lookups, 2);
  arm_all();
  EXPECT_EQ(a->armed_keys.size(), 1u);
}

}  // namespace
}  // namespace chat::gateway::test
