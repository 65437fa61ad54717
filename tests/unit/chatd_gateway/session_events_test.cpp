// Room events over STOMP (docs/stomp.md "Room events"): /app/chat.edit, /app/chat.delete,
// /app/chat.react and chat.send with replyToId / an uploaded attachment, checked against the
// store (fake_directory::event_context) before anything reaches the log; RECEIPTs with
// message-id and message-key; delete-for-me and /user/queue/notifications.
#include "fakes.hpp"

#include "core/message_keys.hpp"

#include <chat/common/uuid.hpp>
#include <chat/proto/ids.hpp>
#include <chat/proto/message.hpp>

#include <nlohmann/json.hpp>

using namespace std::chrono_literals;
using chat::stomp::command;

// A namespace of its own: the CI's unity build puts this file in one unit with other tests.
namespace chat::gateway::test::room_events {
namespace {

std::string header(const stomp::frame& f, std::string_view name) {
  const auto v = f.get(name);
  return v ? std::string(*v) : std::string("<absent>");
}

constexpr std::string_view key_a = "0b8f6c3e-2f7a-4c5e-9d1a-3b6e8f0c2d4a";
constexpr std::string_view file_id = "4f2c9a1e-8b7d-4c3a-9e6f-1a2b3c4d5e6f";

// Room 10 (members 1 and 2; 2 is its admin), room 11 (member 1). Stored messages:
// 100 by alice (1) in room 10, 101 by bob (2) in room 10, 102 a SYSTEM notice in room 10,
// 103 deleted in room 10, 104 by alice in room 11, 105 a reply in room 10 whose thread root is 100.
struct events_harness : harness {
  events_harness() {
    add(100, 10, 1);
    add(101, 10, 2);
    add(102, 10, 2, proto::message_type::system);
    add(103, 10, 1).deleted = true;
    add(104, 11, 1);
    add(105, 10, 2).thread_root_id = 100;
    dir.admins = {{10, 2}};
    proto::file_attachment meta;
    meta.name = "cat.png";
    meta.size = 1234;
    meta.mime_type = "image/png";
    meta.width = 640;
    meta.height = 480;
    dir.files[std::string(file_id)] = meta;
  }
  chatd::target_message& add(std::int64_t id, std::int64_t room, std::int64_t sender,
                             proto::message_type type = proto::message_type::text) {
    auto& m = dir.stored[id];
    m.room_id = room;
    m.target = chatd::target_message{id, sender, type, false, false, epoch_ms - 60'000, 0};
    return m.target;
  }
};

// A session of `user` subscribed to /user/queue/errors (soft errors).
harness::client with_errors(harness& h, std::int64_t user) {
  auto c = h.connect(user);
  c.send(command::subscribe, {{"id", "e"}, {"destination", "/user/queue/errors"}, {"receipt", "sub-e"}});
  EXPECT_EQ(header(c.next(), "receipt-id"), "sub-e");
  return c;
}

nlohmann::json soft_error(harness::client& c) {
  const auto m = c.next();
  EXPECT_EQ(m.cmd, command::message);
  EXPECT_EQ(header(m, "destination"), "/user/queue/errors");
  return nlohmann::json::parse(m.body, nullptr, false);
}

TEST(session_events, edit_is_published_and_its_receipt_names_the_id_and_key) {
  events_harness h;
  auto c = h.connect(1);
  c.send(command::send, {{"destination", "/app/chat.edit"}, {"receipt", "r"}},
         R"({"roomId":10,"targetId":100,"content":"fixed","messageKey":")" + std::string(key_a) + R"("})");
  ASSERT_EQ(h.log.messages.size(), 1u);
  const auto& m = h.log.messages[0].message;
  EXPECT_EQ(m.event, proto::event_kind::edited);
  EXPECT_EQ(m.room_id, 10);
  EXPECT_EQ(m.target_id, 100);
  EXPECT_EQ(m.content, "fixed");
  EXPECT_EQ(m.sender_id, 1);
  EXPECT_EQ(m.sender_nickname, "alice");
  EXPECT_EQ(m.message_key, key_a);
  EXPECT_EQ(m.created_at_ms, h.clock.unix_ms());
  EXPECT_TRUE(c.t->frames.empty()) << "no RECEIPT before the ack";
  h.log.ack_at(0, 3, 41);
  h.poll();
  const auto r = c.next();
  ASSERT_EQ(r.cmd, command::receipt);
  EXPECT_EQ(header(r, "receipt-id"), "r");
  EXPECT_EQ(header(r, "message-id"), std::to_string(proto::make_message_id(3, 41)));
  EXPECT_EQ(header(r, "message-key"), key_a);
}

TEST(session_events, a_plain_send_receipt_carries_the_id_and_a_generated_key) {
  events_harness h;
  auto c = h.connect(2);
  c.send(command::send, {{"destination", "/topic/room.10"}, {"receipt", "p"}}, "plain");
  ASSERT_EQ(h.log.messages.size(), 1u);
  EXPECT_EQ(h.dir.context_lookups, 0) << "a plain message needs no target";
  h.log.ack_at(0, 0, 7);
  h.poll();
  const auto r = c.next();
  EXPECT_EQ(header(r, "message-id"), "7");
  EXPECT_EQ(header(r, "message-key"), h.log.messages[0].message.message_key);
  EXPECT_TRUE(common::is_uuid(header(r, "message-key")));
  // A read receipt's RECEIPT has neither.
  c.send(command::send, {{"destination", "/app/chat.read"}, {"receipt", "rd"}},
         R"({"roomId":10,"lastReadMessageId":7})");
  chatd::publish_result ok;
  ok.ok = true;
  ok.partition = 0;
  ok.offset = 3;
  h.log.receipts.at(0).second(ok);
  h.poll();
  const auto rr = c.next();
  EXPECT_EQ(header(rr, "receipt-id"), "rd");
  EXPECT_EQ(header(rr, "message-id"), "<absent>");
}

TEST(session_events, delete_and_reactions_are_routed_by_destination) {
  events_harness h;
  auto c = h.connect(1);
  c.send(command::send, {{"destination", "/app/chat.react"}}, R"({"roomId":10,"targetId":101,"emoji":"👍"})");
  c.send(command::send, {{"destination", "/app/chat.react"}},
         R"({"roomId":10,"targetId":101,"emoji":"👍","remove":true})");
  c.send(command::send, {{"destination", "/app/chat.delete"}}, R"({"roomId":10,"targetId":100})");
  ASSERT_EQ(h.log.messages.size(), 3u);
  EXPECT_EQ(h.log.messages[0].message.event, proto::event_kind::reaction_added);
  EXPECT_EQ(h.log.messages[0].message.emoji, "👍");
  EXPECT_EQ(h.log.messages[0].message.target_id, 101);
  EXPECT_EQ(h.log.messages[1].message.event, proto::event_kind::reaction_removed);
  EXPECT_EQ(h.log.messages[2].message.event, proto::event_kind::deleted);
  EXPECT_EQ(h.log.messages[2].message.target_id, 100);
  for (const auto& p : h.log.messages) EXPECT_TRUE(common::is_uuid(p.message.message_key));
  EXPECT_NE(h.log.messages[0].message.message_key, h.log.messages[1].message.message_key);

  // A room admin deletes someone else's message.
  auto admin = h.connect(2);
  admin.send(command::send, {{"destination", "/app/chat.delete"}}, R"({"roomId":10,"targetId":100})");
  ASSERT_EQ(h.log.messages.size(), 4u);
  EXPECT_EQ(h.log.messages[3].message.sender_id, 2);
}

// Each refusal of check_room_event: a soft error with the REST code, nothing published, the
// session stays.
TEST(session_events, refusals_are_soft_errors_with_the_rest_codes) {
  events_harness h;
  auto c = with_errors(h, 1);
  h.add(106, 10, 1).created_at_ms = epoch_ms - 49LL * 3600 * 1000;  // older than the 48 h window
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"/app/chat.edit", R"({"roomId":10,"targetId":101,"content":"mine now"})"},  // bob's
      {"/app/chat.edit", R"({"roomId":10,"targetId":106,"content":"too late"})"},
      {"/app/chat.edit", R"({"roomId":10,"targetId":104,"content":"other room"})"},
      {"/app/chat.edit", R"({"roomId":10,"targetId":999,"content":"nothing"})"},
      {"/app/chat.edit", R"({"roomId":10,"targetId":103,"content":"deleted"})"},
      {"/app/chat.edit", R"({"roomId":10,"targetId":102,"content":"system"})"},
      {"/app/chat.delete", R"({"roomId":10,"targetId":101})"},  // bob's, alice is no admin
      {"/app/chat.react", R"({"roomId":10,"targetId":103,"emoji":"👍"})"},
      {"/app/chat.send", R"({"roomId":10,"content":"re","replyToId":103})"},
      {"/app/chat.send", R"({"roomId":10,"content":"re","replyToId":104})"},
      {"/app/chat.react", R"({"roomId":12,"targetId":100,"emoji":"👍"})"},
  };
  const std::vector<std::string> codes = {"not_allowed",       "edit_window_closed", "message_not_found",
                                          "message_not_found", "message_deleted",    "system_message",
                                          "not_allowed",       "message_deleted",    "message_deleted",
                                          "message_not_found", "room_not_found"};
  for (std::size_t i = 0; i < cases.size(); ++i) {
    const auto receipt = "r" + std::to_string(i);
    c.send(command::send, {{"destination", cases[i].first}, {"receipt", receipt}}, cases[i].second);
    const auto body = soft_error(c);
    EXPECT_EQ(body["code"], codes[i]) << cases[i].second;
    EXPECT_EQ(body["receiptId"], receipt);
    EXPECT_EQ(body["destination"], cases[i].first);
    EXPECT_FALSE(body["message"].get<std::string>().empty());
  }
  EXPECT_TRUE(h.log.messages.empty()) << "nothing refused reaches the log";
  EXPECT_FALSE(c.t->closing());

  // Carol is no member of room 10: refused softly too (not_a_member), and not cached.
  auto carol = with_errors(h, 3);
  carol.send(command::send, {{"destination", "/app/chat.react"}, {"receipt", "x"}},
             R"({"roomId":10,"targetId":100,"emoji":"👍"})");
  EXPECT_EQ(soft_error(carol)["code"], "not_a_member");
  EXPECT_TRUE(h.log.messages.empty());
}

// Without /user/queue/errors the refusal is an ERROR that keeps the session (session-closes:false).
TEST(session_events, without_an_errors_subscription_a_refusal_is_an_error_that_keeps_the_session) {
  events_harness h;
  auto c = h.connect(1);
  c.send(command::send, {{"destination", "/app/chat.edit"}, {"receipt", "x"}},
         R"({"roomId":10,"targetId":101,"content":"not mine"})");
  const auto e = c.next();
  ASSERT_EQ(e.cmd, command::error);
  EXPECT_EQ(header(e, "message"), "not allowed");
  EXPECT_EQ(header(e, "receipt-id"), "x");
  EXPECT_EQ(header(e, "session-closes"), "false");
  EXPECT_FALSE(c.t->closing());
  c.send(command::send, {{"destination", "/app/chat.edit"}, {"receipt", "y"}},
         R"({"roomId":10,"targetId":100,"content":"mine"})");
  ASSERT_EQ(h.log.messages.size(), 1u);
  h.log.ack(0);
  h.poll();
  EXPECT_EQ(header(c.next(), "receipt-id"), "y");
}

TEST(session_events, invalid_bodies_are_validation_errors_before_any_lookup) {
  events_harness h;
  auto c = with_errors(h, 1);
  for (const std::string& body : {std::string(R"({"roomId":10,"targetId":100,"emoji":"two words"})"),
                                  std::string(R"({"roomId":10,"targetId":100,"emoji":"123456789"})"),
                                  std::string(R"({"roomId":10,"targetId":100,"emoji":""})"),
                                  std::string(R"({"roomId":10,"targetId":-1,"emoji":"👍"})")}) {
    c.send(command::send, {{"destination", "/app/chat.react"}}, body);
    EXPECT_EQ(soft_error(c)["code"], "validation_error") << body;
  }
  c.send(command::send, {{"destination", "/app/chat.edit"}}, R"({"roomId":10,"targetId":100,"content":"  "})");
  EXPECT_EQ(soft_error(c)["code"], "validation_error");
  c.send(command::send, {{"destination", "/app/chat.delete"}}, R"({"roomId":10})");
  EXPECT_EQ(soft_error(c)["code"], "validation_error");
  EXPECT_EQ(h.dir.context_lookups, 0);
  EXPECT_TRUE(h.log.messages.empty());
  // SUBSCRIBE to an /app destination, SEND to the notifications queue: unknown destination.
  auto d = h.connect(2);
  d.send(command::send, {{"destination", "/user/queue/notifications"}}, "{}");
  EXPECT_EQ(header(d.next(), "message"), "unknown destination");
  auto e = h.connect(2);
  e.send(command::subscribe, {{"id", "x"}, {"destination", "/app/chat.edit"}});
  EXPECT_EQ(header(e.next(), "message"), "unknown destination");
}

TEST(session_events, a_reply_carries_the_thread_root_of_its_target) {
  events_harness h;
  auto c = h.connect(1);
  c.send(command::send, {{"destination", "/app/chat.send"}},
         R"({"roomId":10,"content":"to the root","replyToId":100})");
  c.send(command::send, {{"destination", "/app/chat.send"}}, R"({"roomId":10,"content":"to a reply","replyToId":105})");
  ASSERT_EQ(h.log.messages.size(), 2u);
  EXPECT_EQ(h.log.messages[0].message.reply_to_id, 100);
  EXPECT_EQ(h.log.messages[0].message.thread_root_id, 100);
  EXPECT_EQ(h.log.messages[1].message.reply_to_id, 105);
  EXPECT_EQ(h.log.messages[1].message.thread_root_id, 100) << "replies of replies stay in one thread";
  EXPECT_EQ(h.log.messages[1].message.event, proto::event_kind::message);
}

TEST(session_events, an_uploaded_attachment_gets_the_uploads_metadata) {
  events_harness h;
  auto c = with_errors(h, 1);
  c.send(command::send, {{"destination", "/app/chat.send"}},
         R"({"roomId":10,"type":"IMAGE","content":"look","attachment":{"url":"/api/files/)" + std::string(file_id) +
             R"(","name":"lie.exe","size":1,"mimeType":"application/x-msdownload"}})");
  ASSERT_EQ(h.log.messages.size(), 1u);
  const auto& a = h.log.messages[0].message.attachment;
  ASSERT_TRUE(a);
  EXPECT_EQ(a->url, "/api/files/" + std::string(file_id));
  EXPECT_EQ(a->name, "cat.png");
  EXPECT_EQ(a->size, 1234);
  EXPECT_EQ(a->mime_type, "image/png");
  EXPECT_EQ(a->width, 640);
  EXPECT_EQ(a->height, 480);
  EXPECT_EQ(h.log.messages[0].message.type, proto::message_type::image);

  // A file that does not exist (or is not the user's to share): refused before the log.
  c.send(command::send, {{"destination", "/app/chat.send"}, {"receipt", "f"}},
         R"({"roomId":10,"type":"FILE","attachment":{"url":"/api/files/5f2c9a1e-8b7d-4c3a-9e6f-1a2b3c4d5e6f",)"
         R"("name":"x.bin","size":1,"mimeType":"application/octet-stream"}})");
  const auto body = soft_error(c);
  EXPECT_EQ(body["code"], "file_not_found");
  EXPECT_EQ(body["receiptId"], "f");
  EXPECT_EQ(h.log.messages.size(), 1u);

  // An https attachment needs no lookup.
  c.send(command::send, {{"destination", "/app/chat.send"}},
         R"({"roomId":10,"type":"FILE","attachment":{"url":"https://example.com/a.pdf","name":"a.pdf",)"
         R"("size":10,"mimeType":"application/pdf"}})");
  ASSERT_EQ(h.log.messages.size(), 2u);
  EXPECT_EQ(h.log.messages[1].message.attachment->name, "a.pdf");
}

// Frames after a SEND that waits for its target's context wait too: order is kept.
TEST(session_events, frames_wait_behind_the_event_context_in_order) {
  events_harness h;
  auto c = h.connect(1);
  h.dir.immediate = false;
  c.send(command::send, {{"destination", "/app/chat.edit"}, {"receipt", "1"}},
         R"({"roomId":10,"targetId":100,"content":"first"})");
  c.send(command::send, {{"destination", "/topic/room.10"}, {"receipt", "2"}}, "second");
  EXPECT_TRUE(h.log.messages.empty());
  h.dir.release_one();  // the context
  h.poll();
  ASSERT_EQ(h.log.messages.size(), 2u) << "membership is cached by the context lookup";
  EXPECT_EQ(h.log.messages[0].message.content, "first");
  EXPECT_EQ(h.log.messages[1].message.content, "second");
}

TEST(session_events, an_unavailable_store_refuses_the_event_softly) {
  events_harness h;
  auto c = with_errors(h, 1);
  h.dir.down = true;
  c.send(command::send, {{"destination", "/app/chat.delete"}, {"receipt", "d"}}, R"({"roomId":10,"targetId":100})");
  const auto body = soft_error(c);
  EXPECT_EQ(body["code"], "unavailable");
  EXPECT_EQ(body["receiptId"], "d");
  EXPECT_TRUE(h.log.messages.empty());
  EXPECT_FALSE(c.t->closing());
}

TEST(session_events, a_shutdown_answers_a_send_waiting_for_its_context) {
  events_harness h;
  auto c = h.connect(1);
  h.dir.immediate = false;
  c.send(command::send, {{"destination", "/app/chat.edit"}, {"receipt", "w"}},
         R"({"roomId":10,"targetId":100,"content":"late"})");
  c.s->shut_down();
  h.poll();
  const auto e = c.next();
  EXPECT_EQ(header(e, "receipt-id"), "w");
  EXPECT_EQ(header(e, "message"), "server shutting down");
  h.dir.release_one();  // the answer comes too late: nothing is published
  h.poll();
  EXPECT_TRUE(h.log.messages.empty());
}

// Delete-for-me: stored through the directory (no Kafka), receipted, and every session of the
// user subscribed to /user/queue/notifications hears message.hidden from the user's channel.
TEST(session_events, delete_for_me_hides_without_the_log_and_notifies_the_users_sessions) {
  events_harness h;
  auto phone = h.connect(1);
  auto laptop = h.connect(1);
  auto bob = h.connect(2);
  laptop.send(command::subscribe, {{"id", "n"}, {"destination", "/user/queue/notifications"}, {"receipt", "sub-n"}});
  bob.send(command::subscribe, {{"id", "n"}, {"destination", "/user/queue/notifications"}});
  EXPECT_EQ(h.control.ops, (std::vector<std::string>{"+chat:user:1", "+chat:user:2"}));
  h.hub.on_armed("chat:user:1");
  h.poll();
  EXPECT_EQ(header(laptop.next(), "receipt-id"), "sub-n") << "the RECEIPT waits for the bus";

  phone.send(command::send, {{"destination", "/app/chat.delete"}, {"receipt", "me"}},
             R"({"roomId":10,"targetId":101,"forMe":true})");
  EXPECT_TRUE(h.log.messages.empty()) << "no one else sees it: nothing goes through Kafka";
  ASSERT_EQ(h.dir.hidden.size(), 1u);
  EXPECT_EQ(h.dir.hidden[0], (std::tuple<std::int64_t, std::int64_t, std::int64_t>{1, 10, 101}));
  const auto r = phone.next();
  EXPECT_EQ(r.cmd, command::receipt);
  EXPECT_EQ(header(r, "receipt-id"), "me");
  EXPECT_EQ(header(r, "message-id"), "<absent>");

  // What the real store publishes on chat:user:1 arrives through the hub.
  h.hub.on_user_event(1, R"({"event":"message.hidden","roomId":10,"messageId":101})");
  h.poll();
  const auto m = laptop.next();
  ASSERT_EQ(m.cmd, command::message);
  EXPECT_EQ(header(m, "destination"), "/user/queue/notifications");
  EXPECT_EQ(header(m, "chat-event"), "message.hidden");
  EXPECT_EQ(header(m, "subscription"), "n");
  EXPECT_EQ(nlohmann::json::parse(m.body)["messageId"], 101);
  EXPECT_TRUE(bob.t->frames.empty()) << "another user's channel";
  EXPECT_TRUE(phone.t->frames.empty()) << "not subscribed";

  // Hiding needs membership and a message of the room.
  auto carol = with_errors(h, 3);
  carol.send(command::send, {{"destination", "/app/chat.delete"}}, R"({"roomId":10,"targetId":101,"forMe":true})");
  EXPECT_EQ(soft_error(carol)["code"], "not_a_member");
  auto alice = with_errors(h, 1);
  alice.send(command::send, {{"destination", "/app/chat.delete"}}, R"({"roomId":10,"targetId":104,"forMe":true})");
  EXPECT_EQ(soft_error(alice)["code"], "message_not_found");
  EXPECT_EQ(h.dir.hidden.size(), 1u);

  laptop.send(command::unsubscribe, {{"id", "n"}});
  EXPECT_EQ(h.control.ops.back(), "-chat:user:1");
  bob.s->on_transport_closed();
  EXPECT_EQ(h.control.ops.back(), "-chat:user:2");
}

// What the node remembers (core/recent_messages.hpp) decides without the store when the session
// knows its membership and the rules allow the event; anything else still asks the store.
TEST(session_events, events_on_remembered_messages_skip_the_store_when_memory_allows_them) {
  events_harness h;
  chatd::recent_messages recent(16);
  h.env->recent = &recent;
  proto::chat_message fresh;
  fresh.id = 200;  // not in the (fake) store: the persistence consumer has not written it yet
  fresh.room_id = 10;
  fresh.sender_id = 1;
  fresh.created_at_ms = h.clock.unix_ms();
  fresh.thread_root_id = 0;
  recent.record(fresh);
  auto c = with_errors(h, 1);
  // The membership cache is empty: the first event asks the store, which lacks 200.
  c.send(command::send, {{"destination", "/app/chat.react"}}, R"({"roomId":10,"targetId":200,"emoji":"👍"})");
  EXPECT_EQ(soft_error(c)["code"], "message_not_found");
  EXPECT_EQ(h.dir.context_lookups, 1);
  // A plain SEND fills the membership cache; then edit, reaction and reply come from memory.
  c.send(command::send, {{"destination", "/topic/room.10"}}, "hi");
  c.send(command::send, {{"destination", "/app/chat.edit"}, {"receipt", "e"}},
         R"({"roomId":10,"targetId":200,"content":"fixed"})");
  c.send(command::send, {{"destination", "/app/chat.react"}}, R"({"roomId":10,"targetId":200,"emoji":"👍"})");
  c.send(command::send, {{"destination", "/app/chat.send"}}, R"({"roomId":10,"content":"re","replyToId":200})");
  EXPECT_EQ(h.dir.context_lookups, 1) << "no store round trip";
  ASSERT_EQ(h.log.messages.size(), 4u);
  EXPECT_EQ(h.log.messages[1].message.event, proto::event_kind::edited);
  EXPECT_EQ(h.log.messages[1].message.sender_nickname, "alice");
  EXPECT_EQ(h.log.messages[2].message.event, proto::event_kind::reaction_added);
  EXPECT_EQ(h.log.messages[3].message.thread_root_id, 200);
  // bob may not edit alice's message: memory refuses, so the store answers (and refuses too).
  auto b = with_errors(h, 2);
  b.send(command::send, {{"destination", "/topic/room.10"}}, "hello");
  b.send(command::send, {{"destination", "/app/chat.edit"}}, R"({"roomId":10,"targetId":200,"content":"bob's"})");
  EXPECT_EQ(soft_error(b)["code"], "message_not_found") << "the store has no 200: its answer wins";
  EXPECT_EQ(h.dir.context_lookups, 2);
  // A target the node does not remember: the store.
  b.send(command::send, {{"destination", "/app/chat.react"}}, R"({"roomId":10,"targetId":100,"emoji":"👍"})");
  EXPECT_EQ(h.dir.context_lookups, 3) << "100 is stored but not remembered";
  // A delete of a deleted message: remembered state is used (deleting again is allowed).
  proto::chat_message del;
  del.event = proto::event_kind::deleted;
  del.id = 201;
  del.room_id = 10;
  del.target_id = 200;
  recent.record(del);
  c.send(command::send, {{"destination", "/app/chat.react"}}, R"({"roomId":10,"targetId":200,"emoji":"🎉"})");
  EXPECT_EQ(soft_error(c)["code"], "message_not_found") << "refused by memory (deleted), then by the store";
  EXPECT_EQ(h.dir.context_lookups, 4);
}

// The cluster's memory of keys (core/message_keys.hpp), answered when the test says.
class held_keys final : public chatd::message_keys {
 public:
  std::optional<chatd::key_entry> known;  // what find() says
  std::vector<std::pair<chatd::key_entry, std::function<void(chatd::key_entry)>>> claims;
  std::optional<chatd::key_entry> find(const std::string&) const override { return known; }
  void claim(const std::string&, chatd::key_entry mine, std::function<void(chatd::key_entry)> done) override {
    claims.emplace_back(mine, std::move(done));
  }
};

std::string keyed_send(std::string_view key, std::int64_t room = 10) {
  return R"({"roomId":)" + std::to_string(room) + R"(,"content":"hi","messageKey":")" + std::string(key) + R"("})";
}

TEST(session_events, a_retried_key_is_receipted_with_the_first_id_without_a_second_record) {
  events_harness h;
  chatd::local_message_keys keys;
  h.env->keys = &keys;
  auto c = h.connect(1);
  c.send(command::send, {{"destination", "/app/chat.send"}, {"receipt", "a"}}, keyed_send(key_a));
  ASSERT_EQ(h.log.messages.size(), 1u);
  h.log.ack_at(0, 0, 5);
  h.poll();
  auto r = c.next();
  EXPECT_EQ(header(r, "receipt-id"), "a");
  EXPECT_EQ(header(r, "message-id"), "5");
  EXPECT_EQ(header(r, "message-key"), key_a);
  // The same key again (the client lost the RECEIPT): the first id, at once, nothing published.
  c.send(command::send, {{"destination", "/app/chat.send"}, {"receipt", "b"}}, keyed_send(key_a));
  EXPECT_EQ(h.log.messages.size(), 1u);
  r = c.next();
  EXPECT_EQ(header(r, "receipt-id"), "b");
  EXPECT_EQ(header(r, "message-id"), "5");
  // Another user may not take it over; nor may another room.
  auto bob = with_errors(h, 2);
  bob.send(command::send, {{"destination", "/app/chat.send"}, {"receipt", "c"}}, keyed_send(key_a));
  EXPECT_EQ(h.log.messages.size(), 1u);
  const auto e = soft_error(bob);
  EXPECT_EQ(e["code"], "conflict");
  EXPECT_EQ(e["receiptId"], "c");
}

TEST(session_events, a_key_first_acknowledged_elsewhere_is_receipted_with_that_id) {
  events_harness h;
  held_keys keys;
  h.env->keys = &keys;
  auto c = h.connect(1);
  c.send(command::send, {{"destination", "/app/chat.send"}, {"receipt", "a"}}, keyed_send(key_a));
  ASSERT_EQ(h.log.messages.size(), 1u);
  h.log.ack_at(0, 0, 9);
  h.poll();
  ASSERT_EQ(keys.claims.size(), 1u);
  EXPECT_EQ(keys.claims[0].first, (chatd::key_entry{9, 10, 1}));
  EXPECT_TRUE(c.t->frames.empty()) << "no RECEIPT before the claim answered";
  keys.claims[0].second(chatd::key_entry{3, 10, 1});  // another node's record came first
  h.poll();
  const auto r = c.next();
  EXPECT_EQ(header(r, "receipt-id"), "a");
  EXPECT_EQ(header(r, "message-id"), "3");
  EXPECT_EQ(header(r, "message-key"), key_a);
  // A generated key is never claimed.
  c.send(command::send, {{"destination", "/app/chat.send"}, {"receipt", "g"}}, R"({"roomId":10,"content":"x"})");
  h.log.ack_at(1, 0, 10);
  h.poll();
  EXPECT_EQ(keys.claims.size(), 1u);
  EXPECT_EQ(header(c.next(), "message-id"), "10");
}

TEST(session_events, a_key_naming_another_senders_message_is_refused_after_the_ack) {
  events_harness h;
  held_keys keys;
  h.env->keys = &keys;
  auto c = with_errors(h, 1);
  c.send(command::send, {{"destination", "/app/chat.send"}, {"receipt", "a"}}, keyed_send(key_a));
  h.log.ack_at(0, 0, 9);
  h.poll();
  ASSERT_EQ(keys.claims.size(), 1u);
  keys.claims[0].second(chatd::key_entry{3, 10, 2});
  h.poll();
  const auto e = soft_error(c);
  EXPECT_EQ(e["code"], "conflict");
  EXPECT_EQ(e["receiptId"], "a");
}

TEST(session_events, a_disconnect_receipt_follows_the_receipts_of_claims_in_flight) {
  events_harness h;
  held_keys keys;
  h.env->keys = &keys;
  auto c = h.connect(1);
  c.send(command::send, {{"destination", "/app/chat.send"}, {"receipt", "a"}}, keyed_send(key_a));
  c.send(command::disconnect, {{"receipt", "bye"}});
  h.log.ack_at(0, 0, 9);
  h.poll();
  EXPECT_TRUE(c.t->frames.empty()) << "the DISCONNECT's RECEIPT waits for the SEND's";
  ASSERT_EQ(keys.claims.size(), 1u);
  keys.claims[0].second(keys.claims[0].first);
  h.poll();
  EXPECT_EQ(header(c.next(), "receipt-id"), "a");
  EXPECT_EQ(header(c.next(), "receipt-id"), "bye");
}

TEST(message_keys, the_first_claim_wins_and_the_oldest_key_is_forgotten_first) {
  chatd::recent_keys keys(2);
  EXPECT_FALSE(keys.find("a"));
  EXPECT_EQ(keys.remember("a", {1, 10, 100}), (chatd::key_entry{1, 10, 100}));
  EXPECT_EQ(keys.remember("a", {7, 10, 100}), (chatd::key_entry{1, 10, 100})) << "the first stays";
  keys.assign("a", {3, 10, 100});  // the cluster's answer replaces it
  EXPECT_EQ(keys.find("a")->id, 3);
  keys.remember("b", {2, 10, 100});
  keys.remember("c", {4, 11, 101});
  EXPECT_EQ(keys.size(), 2u);
  EXPECT_FALSE(keys.find("a"));
  EXPECT_EQ(keys.find("c")->room_id, 11);
  chatd::recent_keys none(0);
  EXPECT_EQ(none.remember("a", {1, 1, 1}).id, 1);
  EXPECT_FALSE(none.find("a"));

  chatd::local_message_keys node;
  std::vector<chatd::key_entry> answers;
  node.claim("k", {5, 10, 1}, [&](chatd::key_entry first) { answers.push_back(first); });
  node.claim("k", {8, 10, 1}, [&](chatd::key_entry first) { answers.push_back(first); });
  ASSERT_EQ(answers.size(), 2u);
  EXPECT_EQ(answers[0].id, 5);
  EXPECT_EQ(answers[1].id, 5);
  EXPECT_EQ(node.find("k")->id, 5);
}

}  // namespace
}  // namespace chat::gateway::test::room_events
