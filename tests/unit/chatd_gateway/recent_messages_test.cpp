// core/recent_messages: what the node knows of messages before the store does (event checks of
// fresh targets), fed by the log's acknowledgements and by the fan-out.
#include "core/recent_messages.hpp"
#include "fakes.hpp"

namespace chat::gateway::test {
namespace {

proto::chat_message fresh_message(std::int64_t id, std::int64_t room, std::int64_t sender) {
  proto::chat_message m;
  m.id = id;
  m.room_id = room;
  m.sender_id = sender;
  m.type = proto::message_type::image;
  m.created_at_ms = epoch_ms;
  m.thread_root_id = 3;
  return m;
}

proto::chat_message later_event(proto::event_kind kind, std::int64_t id, std::int64_t room, std::int64_t target) {
  proto::chat_message e = fresh_message(id, room, 1);
  e.event = kind;
  e.target_id = target;
  return e;
}

TEST(recent_messages, remembers_a_message_of_its_room_only) {
  chatd::recent_messages recent(8);
  recent.record(fresh_message(10, 7, 42));
  const auto found = recent.find(7, 10);
  ASSERT_TRUE(found);
  EXPECT_EQ(found->id, 10);
  EXPECT_EQ(found->sender_id, 42);
  EXPECT_EQ(found->type, proto::message_type::image);
  EXPECT_EQ(found->created_at_ms, epoch_ms);
  EXPECT_EQ(found->thread_root_id, 3);
  EXPECT_FALSE(found->deleted);
  EXPECT_FALSE(found->pinned);
  EXPECT_FALSE(recent.find(8, 10)) << "another room's message is absent";
  EXPECT_FALSE(recent.find(7, 11));
}

TEST(recent_messages, later_events_change_the_remembered_state) {
  chatd::recent_messages recent(8);
  recent.record(fresh_message(0, 7, 42));  // id 0 is a real id
  recent.record(later_event(proto::event_kind::pinned, 1, 7, 0));
  EXPECT_TRUE(recent.find(7, 0)->pinned);
  recent.record(later_event(proto::event_kind::unpinned, 2, 7, 0));
  EXPECT_FALSE(recent.find(7, 0)->pinned);
  recent.record(later_event(proto::event_kind::deleted, 3, 8, 0));  // another room's id: ignored
  EXPECT_FALSE(recent.find(7, 0)->deleted);
  recent.record(later_event(proto::event_kind::deleted, 4, 7, 0));
  EXPECT_TRUE(recent.find(7, 0)->deleted);
  recent.record(fresh_message(0, 7, 42));  // seen again live: keeps its state
  EXPECT_TRUE(recent.find(7, 0)->deleted);
  EXPECT_EQ(recent.size(), 1u) << "events are not messages";
}

TEST(recent_messages, forgets_the_oldest_first_and_ignores_events_without_an_id) {
  chatd::recent_messages recent(3);
  for (std::int64_t id = 1; id <= 5; ++id) recent.record(fresh_message(id, 7, 1));
  EXPECT_EQ(recent.size(), 3u);
  EXPECT_FALSE(recent.find(7, 1));
  EXPECT_FALSE(recent.find(7, 2));
  EXPECT_TRUE(recent.find(7, 3));
  EXPECT_TRUE(recent.find(7, 5));
  recent.record(fresh_message(-1, 7, 1));
  EXPECT_EQ(recent.size(), 3u);
  chatd::recent_messages off(0);
  off.record(fresh_message(1, 7, 1));
  EXPECT_EQ(off.size(), 0u);
}

TEST(recording_message_log, records_what_the_log_acknowledged_with_the_id_of_its_position) {
  fake_log inner;
  chatd::recent_messages recent(8);
  chatd::recording_message_log log(inner, recent);
  int answered = 0;
  log.publish_message(fresh_message(-1, 7, 42), [&](const chatd::publish_result& r) {
    EXPECT_TRUE(r.ok);
    ++answered;
  });
  log.publish_message(fresh_message(-1, 7, 43), [&](const chatd::publish_result& r) {
    EXPECT_FALSE(r.ok);
    ++answered;
  });
  ASSERT_EQ(inner.messages.size(), 2u);
  EXPECT_EQ(recent.size(), 0u) << "nothing before the acknowledgement";
  inner.ack_at(0, 2, 17);
  inner.ack(1, false);
  EXPECT_EQ(answered, 2);
  const auto found = recent.find(7, proto::make_message_id(2, 17));
  ASSERT_TRUE(found);
  EXPECT_EQ(found->sender_id, 42);
  EXPECT_EQ(recent.size(), 1u) << "a refused publish is not remembered";
}

TEST(recent_messages, the_fanout_hub_records_every_room_message_it_brings) {
  fanout_hub hub;
  chatd::recent_messages recent(8);
  hub.set_recent(&recent);
  hub.on_room_message(7, R"({"id":5,"messageKey":"0b8f6c3e-2f7a-4c5e-9d1a-3b6e8f0c2d4a","roomId":7,"senderId":1,)"
                         R"("senderNickname":"n","content":"c","type":"TEXT","createdAt":"2026-11-21T12:00:00.000Z"})");
  const auto found = recent.find(7, 5);
  ASSERT_TRUE(found);
  EXPECT_EQ(found->sender_id, 1);
  hub.on_room_message(7, "not json");
  EXPECT_EQ(recent.size(), 1u);
}

}  // namespace
}  // namespace chat::gateway::test
