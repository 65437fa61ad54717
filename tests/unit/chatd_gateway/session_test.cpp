// The STOMP session core against a fake transport, fake ports and an injected clock.
#include "fakes.hpp"

#include "metrics/chat_metrics.hpp"

#include <chat/common/uuid.hpp>
#include <chat/proto/message.hpp>

#include <nlohmann/json.hpp>

using namespace std::chrono_literals;
using chat::stomp::command;

namespace chat::gateway::test {
namespace {

std::string header(const stomp::frame& f, std::string_view name) {
  const auto v = f.get(name);
  return v ? std::string(*v) : std::string("<absent>");
}

std::string room_message(std::int64_t room, std::int64_t id, std::string content = "hi") {
  proto::chat_message m;
  m.id = id;
  m.message_key = common::make_uuid_v4();
  m.room_id = room;
  m.sender_id = 2;
  m.sender_nickname = "bob";
  m.content = std::move(content);
  m.created_at_ms = epoch_ms;
  return proto::to_json(m);
}

// ---- CONNECT ----------------------------------------------------------------------------------

TEST(session_connect, connected_frame_and_presence) {
  harness h;
  auto c = h.open("node-7");
  c.send(command::connect, {{"accept-version", "1.0,1.2,1.1"}, {"passcode", token_for(1)}, {"heart-beat", "0,0"}});
  const auto f = c.next();
  ASSERT_EQ(f.cmd, command::connected);
  EXPECT_EQ(header(f, "version"), "1.2");
  EXPECT_EQ(header(f, "session"), "node-7");
  EXPECT_EQ(header(f, "user-name"), "1");
  EXPECT_EQ(header(f, "server"), "chatd");
  EXPECT_EQ(header(f, "heart-beat"), "0,0");
  ASSERT_EQ(h.presence.events.size(), 1u);
  EXPECT_EQ(h.presence.events[0], (std::pair<std::string, std::int64_t>{"open", 1}));
  EXPECT_EQ(h.node_metrics.tcp_sessions.value(), 1.0);
  c.s->on_transport_closed();
  EXPECT_EQ(h.presence.events.back(), (std::pair<std::string, std::int64_t>{"close", 1}));
  EXPECT_EQ(h.node_metrics.tcp_sessions.value(), 0.0);
  EXPECT_EQ(h.users.sessions_of(1), 0);
}

TEST(session_connect, authorization_header_is_accepted) {
  harness h;
  auto c = h.open();
  c.send(command::stomp, {{"accept-version", "1.2"}, {"Authorization", "Bearer " + token_for(2)}});
  const auto f = c.next();
  ASSERT_EQ(f.cmd, command::connected);
  EXPECT_EQ(header(f, "user-name"), "2");
}

TEST(session_connect, bad_tokens_are_unauthorized_and_closed) {
  for (const std::string& token : {std::string(), std::string("garbage"), token_for(1, epoch_ms - 7'200'000, 3600)}) {
    harness h;
    auto c = h.open();
    std::vector<stomp::header> headers{{"accept-version", "1.2"}};
    if (!token.empty()) headers.push_back({"passcode", token});
    c.send(command::connect, headers);
    const auto f = c.next();
    ASSERT_EQ(f.cmd, command::error) << token;
    EXPECT_EQ(header(f, "message"), "unauthorized");
    EXPECT_TRUE(c.t->flushing_close);
    EXPECT_TRUE(h.presence.events.empty());
    EXPECT_EQ(h.stats.auth_failures, 1u);
  }
}

TEST(session_connect, unknown_user_is_unauthorized) {
  harness h;
  auto c = h.open();
  c.send(command::connect, {{"accept-version", "1.2"}, {"passcode", token_for(99)}});
  EXPECT_EQ(header(c.next(), "message"), "unauthorized");
}

TEST(session_connect, frames_before_connect_and_second_connect_are_refused) {
  harness h;
  auto c = h.open();
  c.send(command::subscribe, {{"id", "1"}, {"destination", "/topic/presence"}});
  EXPECT_EQ(header(c.next(), "message"), "not connected");
  EXPECT_TRUE(c.t->flushing_close);

  auto d = h.connect(1);
  d.send(command::connect, {{"accept-version", "1.2"}, {"passcode", token_for(1)}});
  EXPECT_EQ(header(d.next(), "message"), "already connected");
}

TEST(session_connect, handshake_timeout) {
  harness h;
  auto c = h.open();
  ASSERT_TRUE(c.t->deadline);
  EXPECT_EQ(*c.t->deadline, h.clock.now() + 10s);
  h.clock.advance(9999ms);
  c.s->on_timer();
  EXPECT_TRUE(c.t->frames.empty());
  h.clock.advance(1ms);
  c.s->on_timer();
  EXPECT_EQ(header(c.next(), "message"), "handshake timeout");
  EXPECT_TRUE(c.t->flushing_close);
}

// The transport hears once when the session stops awaiting CONNECT (--max-stomp-handshakes
// stops counting it then): at an accepted CONNECT, before the nickname lookup answers.
TEST(session_connect, handshake_finished_when_a_connect_is_accepted) {
  harness h;
  h.dir.immediate = false;
  auto c = h.open();
  // A frame before CONNECT: ERROR and close, which ends the handshake too.
  c.send(command::subscribe, {{"id", "1"}, {"destination", "/topic/presence"}});
  EXPECT_EQ(header(c.next(), "message"), "not connected");
  EXPECT_EQ(c.t->handshakes_finished, 1);

  auto d = h.open();
  EXPECT_EQ(d.t->handshakes_finished, 0);
  d.send(command::connect, {{"accept-version", "1.2"}, {"passcode", token_for(1)}});
  EXPECT_EQ(d.t->handshakes_finished, 1);
  EXPECT_TRUE(d.t->frames.empty());  // the lookup is still out
  h.dir.release_one();
  h.poll();
  EXPECT_EQ(d.next().cmd, command::connected);
  d.send(command::disconnect, {{"receipt", "bye"}});
  EXPECT_EQ(d.t->handshakes_finished, 1);
}

TEST(session_connect, handshake_finished_on_timeout_and_bad_token) {
  harness h;
  auto c = h.open();
  h.clock.advance(10s);
  c.s->on_timer();
  EXPECT_EQ(header(c.next(), "message"), "handshake timeout");
  EXPECT_EQ(c.t->handshakes_finished, 1);

  auto d = h.open();
  d.send(command::connect, {{"accept-version", "1.2"}, {"passcode", "garbage"}});
  EXPECT_EQ(header(d.next(), "message"), "unauthorized");
  EXPECT_EQ(d.t->handshakes_finished, 1);
}

TEST(session_connect, evicted_while_awaiting_connect_gets_an_error_and_closes) {
  harness h;
  auto c = h.open();
  EXPECT_TRUE(c.s->evict_handshake());
  const auto f = c.next();
  ASSERT_EQ(f.cmd, command::error);
  EXPECT_EQ(header(f, "message"), "handshake capacity exceeded");
  EXPECT_TRUE(c.t->flushing_close);
  EXPECT_FALSE(c.t->aborted);
  EXPECT_EQ(c.t->handshakes_finished, 1);
  EXPECT_FALSE(c.s->evict_handshake());  // closing already
  EXPECT_TRUE(c.t->frames.empty());
  // Bytes that arrive afterwards are ignored.
  c.send(command::connect, {{"accept-version", "1.2"}, {"passcode", token_for(1)}});
  EXPECT_TRUE(c.t->frames.empty());
  EXPECT_TRUE(h.presence.events.empty());
}

TEST(session_connect, eviction_after_an_accepted_connect_does_nothing) {
  harness h;
  h.dir.immediate = false;
  auto c = h.open();
  c.send(command::connect, {{"accept-version", "1.2"}, {"passcode", token_for(1)}});
  EXPECT_FALSE(c.s->evict_handshake());  // authenticating: the eviction raced with CONNECT
  h.dir.release_one();
  h.poll();
  EXPECT_EQ(c.next().cmd, command::connected);
  EXPECT_FALSE(c.s->evict_handshake());
  EXPECT_TRUE(c.t->frames.empty());
  EXPECT_FALSE(c.t->closing());
}

TEST(session_connect, sessions_per_user_are_limited) {
  harness h(harness::defaults(), user_limits{.max_sessions = 2});
  auto a = h.connect(1);
  auto b = h.connect(1);
  auto c = h.open();
  c.send(command::connect, {{"accept-version", "1.2"}, {"passcode", token_for(1)}});
  EXPECT_EQ(header(c.next(), "message"), "too many sessions");
  a.s->on_transport_closed();
  auto d = h.connect(1);  // a slot is free again
}

TEST(session_connect, stomp_10_without_escaping) {
  harness h;
  auto c = h.open();
  c.send(command::connect, {{"passcode", token_for(1)}});  // no accept-version: 1.0
  const auto f = c.next();
  ASSERT_EQ(f.cmd, command::connected);
  EXPECT_EQ(header(f, "version"), "1.0");
  // 1.0: header values are literal; a backslash is no escape error.
  c.feed("SUBSCRIBE\ndestination:/topic/presence\nid:a\\b\nreceipt:r\n\n");
  c.feed(std::string(1, '\0'));
  const auto r = c.next();
  EXPECT_EQ(r.cmd, command::receipt);
}

// ---- SEND -------------------------------------------------------------------------------------

TEST(session_send, receipt_only_after_the_log_acknowledged) {
  harness h;
  auto c = h.connect(1);
  const std::string key = "0b8f6c3e-2f7a-4c5e-9d1a-3b6e8f0c2d4a";
  c.send(command::send, {{"destination", "/app/chat.send"}, {"receipt", "r1"}},
         R"({"roomId":10,"content":"hello","messageKey":")" + key + R"("})");
  ASSERT_EQ(h.log.messages.size(), 1u);
  const auto& m = h.log.messages[0].message;
  EXPECT_EQ(m.room_id, 10);
  EXPECT_EQ(m.sender_id, 1);
  EXPECT_EQ(m.sender_nickname, "alice");
  EXPECT_EQ(m.content, "hello");
  EXPECT_EQ(m.message_key, key);
  EXPECT_EQ(m.created_at_ms, h.clock.unix_ms());
  EXPECT_TRUE(c.t->frames.empty()) << "no RECEIPT before the ack";
  h.log.ack(0);
  h.poll();
  const auto r = c.next();
  EXPECT_EQ(r.cmd, command::receipt);
  EXPECT_EQ(header(r, "receipt-id"), "r1");
  EXPECT_EQ(h.node_metrics.messages_sent.value(), 1u);
}

TEST(session_send, plain_text_to_the_room_topic_with_a_generated_key) {
  harness h;
  auto c = h.connect(2);
  c.send(command::send, {{"destination", "/topic/room.10"}}, "just text");
  ASSERT_EQ(h.log.messages.size(), 1u);
  EXPECT_EQ(h.log.messages[0].message.content, "just text");
  EXPECT_TRUE(common::is_uuid(h.log.messages[0].message.message_key));
  EXPECT_EQ(h.log.messages[0].message.sender_id, 2);  // the token's user, never the body's
}

TEST(session_send, refused_record_is_an_error_with_receipt_id) {
  harness h;
  auto c = h.connect(1);
  c.send(command::send, {{"destination", "/topic/room.10"}, {"receipt", "x"}}, "doomed");
  h.log.ack(0, false);
  h.poll();
  const auto e = c.next();
  EXPECT_EQ(e.cmd, command::error);
  EXPECT_EQ(header(e, "receipt-id"), "x");
  EXPECT_EQ(header(e, "message"), "message not accepted");
  EXPECT_NE(e.body.find("may still be stored"), std::string::npos) << e.body;
  // One refused SEND does not end the session, and says so.
  EXPECT_EQ(header(e, "session-closes"), "false");
  EXPECT_FALSE(c.t->closing());
  c.send(command::send, {{"destination", "/topic/room.10"}, {"receipt", "y"}}, "again");
  h.log.ack(1);
  h.poll();
  EXPECT_EQ(header(c.next(), "receipt-id"), "y");
}

TEST(session_send, refusals_are_soft_errors_for_an_errors_subscriber) {
  harness h;
  auto c = h.connect(1);
  c.send(command::subscribe, {{"id", "e"}, {"destination", "/user/queue/errors"}});
  c.send(command::send, {{"destination", "/topic/room.10"}, {"receipt", "x"}}, "doomed");
  h.log.ack(0, false);
  h.poll();
  const auto m = c.next();
  ASSERT_EQ(m.cmd, command::message);
  const auto body = nlohmann::json::parse(m.body);
  EXPECT_EQ(body["code"], "not_accepted");
  EXPECT_EQ(body["receiptId"], "x");
  EXPECT_EQ(body["destination"], "/topic/room.10");
  EXPECT_FALSE(c.t->closing());
}

TEST(session_send, unanswered_publish_times_out) {
  harness h;
  auto c = h.connect(1);
  c.send(command::send, {{"destination", "/topic/room.10"}, {"receipt", "x"}}, "lost");
  ASSERT_TRUE(c.t->deadline);
  h.clock.advance(h.env->settings.send_timeout + h.env->settings.send_grace);
  c.s->on_timer();
  const auto e = c.next();
  EXPECT_EQ(header(e, "receipt-id"), "x");
  EXPECT_EQ(header(e, "message"), "message not accepted");
  EXPECT_NE(e.body.find("may still be stored"), std::string::npos) << e.body;
  EXPECT_EQ(header(e, "session-closes"), "false");
  EXPECT_FALSE(c.t->closing()) << "a slow broker costs latency and an answer, not the session";
  // A late ack finds nothing to answer.
  h.log.ack(0);
  h.poll();
  EXPECT_TRUE(c.t->frames.empty());
}

TEST(session_send, frames_wait_behind_a_membership_lookup_in_order) {
  harness h;
  h.dir.immediate = false;
  auto c = h.open();
  c.send(command::connect, {{"accept-version", "1.2"}, {"passcode", token_for(1)}});
  h.dir.release_one();  // nickname
  h.poll();
  ASSERT_EQ(c.next().cmd, command::connected);

  c.send(command::send, {{"destination", "/topic/room.10"}}, "first");
  c.send(command::send, {{"destination", "/topic/room.11"}}, "second");
  c.send(command::send, {{"destination", "/topic/room.10"}}, "third");
  EXPECT_TRUE(h.log.messages.empty());
  EXPECT_EQ(h.dir.held.size(), 1u) << "the second frame waits for the first";
  h.dir.release_one();
  h.poll();
  ASSERT_EQ(h.log.messages.size(), 1u);
  h.dir.release_one();
  h.poll();
  ASSERT_EQ(h.log.messages.size(), 3u) << "room 10 is cached now";
  EXPECT_EQ(h.log.messages[0].message.content, "first");
  EXPECT_EQ(h.log.messages[1].message.content, "second");
  EXPECT_EQ(h.log.messages[2].message.content, "third");
}

TEST(session_send, reading_pauses_while_frames_pile_up_and_resumes) {
  harness h(harness::defaults(), user_limits{.burst = 100});
  h.dir.immediate = false;
  auto c = h.open();
  c.send(command::connect, {{"accept-version", "1.2"}, {"passcode", token_for(1)}});
  h.dir.release_one();
  h.poll();
  c.next();
  std::string many;
  for (int i = 0; i < 40; ++i) many += wire(command::send, {{"destination", "/topic/room.10"}}, "m");
  c.feed(many);
  EXPECT_FALSE(c.s->wants_bytes());
  h.dir.release_one();
  h.poll();
  EXPECT_TRUE(c.s->wants_bytes());
  EXPECT_EQ(c.t->resumes, 1);
  EXPECT_EQ(h.log.messages.size(), 40u);
}

TEST(session_send, membership_cache_expires) {
  harness h;
  auto c = h.connect(1);
  c.send(command::send, {{"destination", "/topic/room.10"}}, "a");
  c.send(command::send, {{"destination", "/topic/room.10"}}, "b");
  EXPECT_EQ(h.dir.membership_lookups, 1);
  h.clock.advance(31s);
  c.send(command::send, {{"destination", "/topic/room.10"}}, "c");
  EXPECT_EQ(h.dir.membership_lookups, 2);
  // While the database is down, a membership verified before is trusted.
  h.clock.advance(31s);
  h.dir.down = true;
  c.send(command::send, {{"destination", "/topic/room.10"}}, "d");
  EXPECT_EQ(h.log.messages.size(), 4u);
  c.send(command::send, {{"destination", "/topic/room.11"}}, "never checked");
  EXPECT_EQ(header(c.next(), "message"), "service unavailable");
}

TEST(session_send, connect_verifies_the_users_rooms_for_the_subscribes_that_follow) {
  harness h;
  h.dir.rooms_on_connect = true;
  auto c = h.connect(1);  // a member of rooms 10 and 11
  c.send(command::subscribe, {{"id", "a"}, {"destination", "/topic/room.10"}, {"receipt", "a"}});
  c.send(command::subscribe, {{"id", "b"}, {"destination", "/topic/room.11"}, {"receipt", "b"}});
  c.send(command::send, {{"destination", "/topic/room.10"}}, "hi");
  EXPECT_EQ(h.dir.membership_lookups, 0) << "verified by the CONNECT's lookup";
  EXPECT_EQ(h.log.messages.size(), 1u);
  // The check expires as any other; another room is still checked on its own.
  h.clock.advance(31s);
  c.send(command::send, {{"destination", "/topic/room.10"}}, "later");
  EXPECT_EQ(h.dir.membership_lookups, 1);
  c.send(command::subscribe, {{"id", "c"}, {"destination", "/topic/room.12"}, {"receipt", "c"}});
  EXPECT_EQ(h.dir.membership_lookups, 2);
}

TEST(session_send, non_member_is_forbidden) {
  harness h;
  auto c = h.connect(3);
  c.send(command::send, {{"destination", "/app/chat.send"}, {"receipt", "q"}}, R"({"roomId":10,"content":"x"})");
  const auto e = c.next();
  EXPECT_EQ(header(e, "message"), "forbidden");
  EXPECT_EQ(header(e, "receipt-id"), "q");
  EXPECT_TRUE(h.log.messages.empty());
  EXPECT_EQ(h.stats.forbidden, 1u);
}

TEST(session_send, validation_errors_soft_with_error_queue_else_fatal) {
  harness h;
  auto c = h.connect(1);
  c.send(command::subscribe, {{"id", "e"}, {"destination", "/user/queue/errors"}});
  c.send(command::send, {{"destination", "/app/chat.send"}, {"receipt", "r"}},
         R"({"roomId":10,"content":")" + std::string(4001, 'x') + R"("})");
  const auto m = c.next();
  ASSERT_EQ(m.cmd, command::message);
  EXPECT_EQ(header(m, "destination"), "/user/queue/errors");
  EXPECT_EQ(header(m, "subscription"), "e");
  const auto body = nlohmann::json::parse(m.body);
  EXPECT_EQ(body["code"], "validation_error");
  EXPECT_EQ(body["receiptId"], "r");
  EXPECT_FALSE(c.t->closing());

  auto d = h.connect(2);
  d.send(command::send, {{"destination", "/app/chat.send"}}, "[1,2]");
  EXPECT_EQ(header(d.next(), "message"), "invalid message");
  EXPECT_TRUE(d.t->flushing_close);
}

// A client without an errors subscription still hears about each SEND it asked a receipt
// for; one that asked for nothing gets nothing (as before).
TEST(session_send, rate_limited_send_with_a_receipt_gets_an_error_that_keeps_the_session) {
  harness h(harness::defaults(), user_limits{.rate_per_s = 1, .burst = 1, .disconnect_factor = 100});
  auto c = h.connect(1);
  c.send(command::send, {{"destination", "/topic/room.10"}, {"receipt", "a"}}, "m");
  c.send(command::send, {{"destination", "/topic/room.10"}, {"receipt", "b"}}, "m");
  c.send(command::send, {{"destination", "/topic/room.10"}}, "m");
  EXPECT_EQ(h.log.messages.size(), 1u);
  const auto e = c.next();
  ASSERT_EQ(e.cmd, command::error);
  EXPECT_EQ(header(e, "message"), "rate limited");
  EXPECT_EQ(header(e, "receipt-id"), "b");
  EXPECT_EQ(header(e, "session-closes"), "false");
  EXPECT_TRUE(c.t->frames.empty()) << "the one without a receipt is dropped quietly";
  EXPECT_FALSE(c.t->closing());
  h.log.ack(0);
  h.poll();
  EXPECT_EQ(header(c.next(), "receipt-id"), "a");
}

TEST(session_send, rate_limit_soft_then_disconnect) {
  harness h(harness::defaults(), user_limits{.rate_per_s = 1, .burst = 2, .disconnect_factor = 2});
  auto c = h.connect(1);
  c.send(command::subscribe, {{"id", "e"}, {"destination", "/user/queue/errors"}});
  for (int i = 0; i < 4; ++i) c.send(command::send, {{"destination", "/topic/room.10"}}, "m");
  EXPECT_EQ(h.log.messages.size(), 2u);
  for (int i = 0; i < 2; ++i) {
    const auto m = c.next();
    EXPECT_EQ(nlohmann::json::parse(m.body)["code"], "rate_limited");
  }
  EXPECT_FALSE(c.t->closing());
  h.clock.advance(1s);  // one more token in each bucket
  c.send(command::send, {{"destination", "/topic/room.10"}}, "m");
  EXPECT_EQ(h.log.messages.size(), 3u);
  // The disconnect bucket (capacity 4, 2/s) counts attempts: 4 used, 2 refilled, 1 used.
  c.send(command::send, {{"destination", "/topic/room.10"}}, "m");
  EXPECT_EQ(nlohmann::json::parse(c.next().body)["code"], "rate_limited");
  EXPECT_FALSE(c.t->closing());
  c.send(command::send, {{"destination", "/topic/room.10"}}, "m");
  EXPECT_EQ(header(c.next(), "message"), "rate limit exceeded");
  EXPECT_TRUE(c.t->flushing_close);
  EXPECT_EQ(h.node_metrics.rate_limited.value(), 4u);
  EXPECT_EQ(h.stats.rate_limit_disconnects, 1u);
}

TEST(session_send, disconnect_receipt_follows_pending_sends) {
  harness h;
  auto c = h.connect(1);
  c.send(command::send, {{"destination", "/topic/room.10"}, {"receipt", "s"}}, "m");
  c.send(command::disconnect, {{"receipt", "d"}});
  EXPECT_TRUE(c.t->frames.empty());
  EXPECT_FALSE(c.t->closing());
  h.log.ack(0);
  h.poll();
  EXPECT_EQ(header(c.next(), "receipt-id"), "s");
  EXPECT_EQ(header(c.next(), "receipt-id"), "d");
  EXPECT_TRUE(c.t->flushing_close);
}

TEST(session_send, read_receipts_and_typing) {
  harness h;
  auto c = h.connect(1);
  c.send(command::send, {{"destination", "/app/chat.read"}, {"receipt", "rd"}},
         R"({"roomId":10,"lastReadMessageId":42})");
  ASSERT_EQ(h.log.receipts.size(), 1u);
  EXPECT_EQ(h.log.receipts[0].first.last_read_message_id, 42);
  EXPECT_EQ(h.log.receipts[0].first.user_id, 1);
  chatd::publish_result ok;
  ok.ok = true;
  h.log.receipts[0].second(ok);
  h.poll();
  EXPECT_EQ(header(c.next(), "receipt-id"), "rd");

  for (int i = 0; i < 3; ++i) c.send(command::send, {{"destination", "/app/chat.typing"}}, R"({"roomId":10})");
  ASSERT_EQ(h.presence.typing.size(), 1u) << "at most one per typing interval";
  EXPECT_EQ(h.presence.typing[0].nickname, "alice");
  h.clock.advance(1s);
  c.send(command::send, {{"destination", "/app/chat.typing"}}, R"({"roomId":10})");
  EXPECT_EQ(h.presence.typing.size(), 2u);
}

// ---- SUBSCRIBE and fan-out ---------------------------------------------------------------------

TEST(session_subscribe, receipt_waits_for_the_bus_and_join_is_per_room) {
  harness h;
  auto c = h.connect(1);
  c.send(command::subscribe, {{"id", "a"}, {"destination", "/topic/room.10"}, {"receipt", "ra"}});
  c.send(command::subscribe, {{"id", "b"}, {"destination", "/topic/room.10"}, {"receipt", "rb"}});
  EXPECT_EQ(h.control.ops, std::vector<std::string>{"+chat:room:10"});
  EXPECT_TRUE(c.t->frames.empty()) << "not armed yet";
  h.hub.on_armed("chat:room:10");
  h.poll();
  EXPECT_EQ(header(c.next(), "receipt-id"), "ra");
  EXPECT_EQ(header(c.next(), "receipt-id"), "rb");

  c.send(command::unsubscribe, {{"id", "a"}});
  EXPECT_EQ(h.control.ops.size(), 1u);
  c.send(command::unsubscribe, {{"id", "b"}, {"receipt", "u"}});
  EXPECT_EQ(header(c.next(), "receipt-id"), "u");
  EXPECT_EQ(h.control.ops.back(), "-chat:room:10");
}

TEST(session_subscribe, receipt_is_sent_anyway_when_the_bus_is_slow) {
  harness h;
  auto c = h.connect(1);
  c.send(command::subscribe, {{"id", "a"}, {"destination", "/topic/room.10"}, {"receipt", "ra"}});
  h.clock.advance(h.env->settings.arm_wait);
  c.s->on_timer();
  EXPECT_EQ(header(c.next(), "receipt-id"), "ra");
}

TEST(session_subscribe, one_shared_body_for_every_subscriber) {
  harness h;
  auto a = h.connect(1);
  auto b = h.connect(2);
  a.t->auto_write = false;
  b.t->auto_write = false;
  a.send(command::subscribe, {{"id", "x:1"}, {"destination", "/topic/room.10"}});
  b.send(command::subscribe, {{"id", "y"}, {"destination", "/topic/room.10"}, {"ack", "client"}});
  const auto json = room_message(10, 77);
  h.hub.on_room_message(10, json);
  h.poll();
  ASSERT_EQ(a.t->begin_write(), 1u);
  ASSERT_EQ(b.t->begin_write(), 1u);
  // head + shared tail; the tail is the very same memory for both sessions
  ASSERT_EQ(a.t->writes.back().size(), 2u);
  ASSERT_EQ(b.t->writes.back().size(), 2u);
  EXPECT_EQ(a.t->writes.back()[1].data(), b.t->writes.back()[1].data());
  a.t->complete();
  b.t->complete();
  const auto fa = a.next();
  EXPECT_EQ(fa.cmd, command::message);
  EXPECT_EQ(header(fa, "subscription"), "x:1");  // escaped on the wire, decoded back
  EXPECT_EQ(header(fa, "message-id"), "77");
  EXPECT_EQ(header(fa, "destination"), "/topic/room.10");
  EXPECT_EQ(header(fa, "content-type"), "application/json");
  EXPECT_EQ(fa.body, json);
  const auto fb = b.next();
  EXPECT_EQ(header(fb, "ack"), "77");
  EXPECT_EQ(fb.body, json);
}

TEST(session_subscribe, forbidden_and_limits) {
  harness h(([] {
    auto s = harness::defaults();
    s.max_subscriptions = 2;
    return s;
  })());
  auto c = h.connect(3);
  c.send(command::subscribe, {{"id", "1"}, {"destination", "/topic/room.10.typing"}});
  EXPECT_EQ(header(c.next(), "message"), "forbidden");
  EXPECT_TRUE(h.control.ops.empty());

  auto d = h.connect(1);
  d.send(command::subscribe, {{"id", "1"}, {"destination", "/user/queue/errors"}});
  d.send(command::subscribe, {{"id", "1"}, {"destination", "/topic/presence"}});
  EXPECT_EQ(header(d.next(), "message"), "subscription id in use");

  auto e = h.connect(2);
  e.send(command::subscribe, {{"id", "1"}, {"destination", "/user/queue/errors"}});
  e.send(command::subscribe, {{"id", "2"}, {"destination", "/user/queue/errors"}});
  e.send(command::subscribe, {{"id", "3"}, {"destination", "/topic/presence"}});
  EXPECT_EQ(header(e.next(), "message"), "too many subscriptions");

  harness h2;
  auto f = h2.connect(1);
  f.send(command::subscribe, {{"id", "1"}, {"destination", "/app/chat.send"}});
  EXPECT_EQ(header(f.next(), "message"), "unknown destination");
}

TEST(session_subscribe, presence_of_contacts) {
  harness h;
  h.dir.contacts_of[1] = {2, 3};
  auto c = h.connect(1);
  c.send(command::subscribe, {{"id", "p"}, {"destination", "/topic/presence"}, {"receipt", "r"}});
  EXPECT_EQ(header(c.next(), "receipt-id"), "r");
  EXPECT_EQ(h.hub.watched_users(), 2u);
  h.hub.on_presence(R"({"userId":2,"status":"ONLINE","at":"2026-11-21T12:00:00.000Z"})");
  h.hub.on_presence(R"({"userId":2,"status":"ONLINE","at":"2026-11-21T12:00:00.001Z"})");  // duplicate
  h.hub.on_presence(R"({"userId":9,"status":"ONLINE","at":"2026-11-21T12:00:00.000Z"})");  // not a contact
  h.hub.on_presence_expired(2, epoch_ms);
  h.poll();
  auto m = c.next();
  EXPECT_EQ(header(m, "destination"), "/topic/presence");
  EXPECT_EQ(nlohmann::json::parse(m.body)["status"], "ONLINE");
  m = c.next();
  EXPECT_EQ(nlohmann::json::parse(m.body)["status"], "OFFLINE");
  EXPECT_EQ(nlohmann::json::parse(m.body)["userId"], 2);
  EXPECT_TRUE(c.t->frames.empty());

  // Contacts are refreshed: 3 left, 4 joined.
  h.dir.contacts_of[1] = {2, 4};
  h.clock.advance(h.env->settings.contacts_refresh);
  c.s->on_timer();
  h.poll();
  h.hub.on_presence(R"({"userId":3,"status":"OFFLINE","at":"2026-11-21T12:00:00.000Z"})");
  h.hub.on_presence(R"({"userId":4,"status":"ONLINE","at":"2026-11-21T12:00:00.000Z"})");
  h.poll();
  EXPECT_EQ(nlohmann::json::parse(c.next().body)["userId"], 4);
  EXPECT_TRUE(c.t->frames.empty());

  c.s->on_transport_closed();
  EXPECT_EQ(h.hub.watched_users(), 0u);
}

// ---- output limits, heart-beats, malformed input ------------------------------------------------

// A client that does not read is recognised by its socket (a write that does not complete),
// not by the size of its queue: until then what does not fit is shed, and it is dropped at
// the stall timeout. The readers keep everything.
TEST(session_output, slow_consumer_is_aborted) {
  auto settings = harness::defaults();
  settings.max_outbound_bytes = 4096;
  harness h(settings);
  auto slow = h.connect(1);
  auto fast = h.connect(2);
  slow.t->auto_write = false;
  slow.send(command::subscribe, {{"id", "s"}, {"destination", "/topic/room.10"}});
  fast.send(command::subscribe, {{"id", "f"}, {"destination", "/topic/room.10"}});
  for (int i = 0; i < 20; ++i) h.hub.on_room_message(10, room_message(10, i + 1, std::string(300, 'x')));
  h.poll();
  ASSERT_GT(slow.t->begin_write(), 0u);  // the socket takes nothing from here on
  EXPECT_FALSE(slow.t->aborted) << "a full queue alone is no proof";
  EXPECT_GT(h.node_metrics.fanout_shed.value(), 0u);
  EXPECT_FALSE(fast.t->aborted);
  EXPECT_EQ(fast.t->frames.size(), 20u);
  h.clock.advance(settings.write_stall_timeout + 1ms);
  slow.s->on_timer();
  EXPECT_TRUE(slow.t->aborted);
  EXPECT_FALSE(fast.t->aborted);
  EXPECT_EQ(h.node_metrics.slow_consumer_disconnects.value(), 1u);
}

// A client that sends with receipts but never reads: its answers are kept (they are owed)
// up to twice the bound, then it is disconnected.
TEST(session_output, answers_past_twice_the_bound_disconnect_a_client_that_does_not_read) {
  auto settings = harness::defaults();
  settings.max_outbound_bytes = 1024;
  harness h(settings);
  auto c = h.connect(1);
  c.t->auto_write = false;
  for (int i = 0; i < 200 && !c.t->aborted; ++i) {
    c.send(command::subscribe, {{"id", "e" + std::to_string(i)},
                                {"destination", "/user/queue/errors"},
                                {"receipt", std::string(40, 'r') + std::to_string(i)}});
  }
  EXPECT_TRUE(c.t->aborted);
  EXPECT_EQ(h.node_metrics.slow_consumer_disconnects.value(), 1u);
}

// The I/O threads fall behind (nothing runs the strands here): fan-out posted to a session
// is bounded too, not only what it has queued for the socket.
// A member who leaves gets the room's "left" notice and nothing of the room after it, on
// every session; the others keep receiving. A later action in the room is checked again.
TEST(session_subscribe, the_leavers_left_notice_ends_their_room_subscriptions) {
  harness h;
  auto leaver = h.connect(1);
  auto second_tab = h.connect(1);
  auto stays = h.connect(2);
  for (auto* c : {&leaver, &second_tab}) {
    c->send(command::subscribe, {{"id", "r"}, {"destination", "/topic/room.10"}});
    c->send(command::subscribe, {{"id", "t"}, {"destination", "/topic/room.10.typing"}});
    c->send(command::subscribe, {{"id", "other"}, {"destination", "/topic/room.11"}});
  }
  stays.send(command::subscribe, {{"id", "r"}, {"destination", "/topic/room.10"}});
  h.dir.members.erase({10, 1});  // DELETE /api/rooms/10/members/me

  auto notice = proto::membership_notice(10, 1, "alice", proto::membership_change::left);
  notice.id = 7;
  notice.message_key = common::make_uuid_v4();
  notice.created_at_ms = epoch_ms;
  h.hub.on_room_message(10, proto::to_json(notice));
  h.hub.on_room_message(10, room_message(10, 8, "after the leave"));
  h.hub.on_room_message(11, room_message(11, 9, "another room"));
  h.poll();
  for (auto* c : {&leaver, &second_tab}) {
    const auto got = c->next();
    EXPECT_EQ(nlohmann::json::parse(got.body)["content"], "alice left");
    EXPECT_EQ(nlohmann::json::parse(c->next().body)["content"], "another room");
    EXPECT_TRUE(c->t->frames.empty());
  }
  EXPECT_EQ(nlohmann::json::parse(stays.next().body)["content"], "alice left");
  EXPECT_EQ(nlohmann::json::parse(stays.next().body)["content"], "after the leave");

  // The cached membership went with the subscriptions: a SEND asks again and is refused.
  const int lookups = h.dir.membership_lookups;
  leaver.send(command::send, {{"destination", "/topic/room.10"}}, "still here?");
  EXPECT_EQ(h.dir.membership_lookups, lookups + 1);
  EXPECT_EQ(header(leaver.next(), "message"), "forbidden");
  EXPECT_TRUE(h.log.messages.empty());
}

// SPEC §16: a member.removed ends the removed member's subscriptions (sent by someone else), and a
// room.deleted ends everyone's; both are the last of the room they get.
TEST(session_subscribe, removal_and_deletion_end_the_subscriptions_they_concern) {
  harness h;
  auto removed = h.connect(1);
  auto stays = h.connect(2);
  for (auto* c : {&removed, &stays}) c->send(command::subscribe, {{"id", "r"}, {"destination", "/topic/room.10"}});
  h.dir.members.erase({10, 1});  // DELETE /api/rooms/10/members/1 by bob

  auto kick = proto::member_removed_notice(10, 2, "bob", 1, "alice");
  kick.id = 7;
  kick.message_key = common::make_uuid_v4();
  kick.created_at_ms = epoch_ms;
  h.hub.on_room_message(10, proto::to_json(kick));
  h.hub.on_room_message(10, room_message(10, 8, "after the removal"));
  h.poll();
  const auto got = removed.next();
  EXPECT_EQ(header(got, "chat-event"), "member.removed");
  EXPECT_TRUE(removed.t->frames.empty()) << "nothing of the room after the removal";
  EXPECT_EQ(header(stays.next(), "chat-event"), "member.removed");
  EXPECT_EQ(nlohmann::json::parse(stays.next().body)["content"], "after the removal");

  auto gone = proto::room_deleted_notice(10, 2, "bob");
  gone.id = 9;
  gone.message_key = common::make_uuid_v4();
  gone.created_at_ms = epoch_ms;
  h.hub.on_room_message(10, proto::to_json(gone));
  h.hub.on_room_message(10, room_message(10, 10, "a late record"));
  h.poll();
  EXPECT_EQ(header(stays.next(), "chat-event"), "room.deleted");
  EXPECT_TRUE(stays.t->frames.empty()) << "nothing of the room after its deletion";
  EXPECT_FALSE(h.hub.is_joined(channel_key{channel_kind::room, 10}));
}

// chat:membership: a session that never subscribed the room (its membership cached by an earlier
// SEND, or by CONNECT) forgets it; its next SEND asks the store and is refused.
TEST(session_subscribe, a_revoked_membership_is_checked_again) {
  harness h;
  auto c = h.connect(1);
  c.send(command::send, {{"destination", "/topic/room.10"}}, "verified");  // the membership is cached
  h.poll();
  c.send(command::send, {{"destination", "/topic/room.10"}}, "cached");
  h.poll();
  ASSERT_EQ(h.log.messages.size(), 2u);
  const int lookups = h.dir.membership_lookups;
  h.dir.members.erase({10, 1});
  h.hub.on_membership_revoked(proto::to_json(proto::membership_revoked{10, {1, 3}}));
  h.hub.on_membership_revoked(R"({"roomId":"x"})");  // malformed: dropped, nothing else happens
  h.poll();
  c.send(command::send, {{"destination", "/topic/room.10"}}, "still here?");
  h.poll();
  EXPECT_EQ(h.dir.membership_lookups, lookups + 1);
  EXPECT_EQ(header(c.next(), "message"), "forbidden");
  EXPECT_EQ(h.log.messages.size(), 2u);
}

// A "left" notice written before this session verified its membership (the user joined again
// since, or the notice belongs to an earlier life of the room id) ends nothing.
TEST(session_subscribe, a_left_notice_older_than_the_verified_membership_is_stale) {
  harness h;
  auto c = h.connect(1);
  h.clock.advance(5s);
  c.send(command::subscribe, {{"id", "r"}, {"destination", "/topic/room.10"}});
  auto stale = proto::membership_notice(10, 1, "alice", proto::membership_change::left);
  stale.id = 1;
  stale.message_key = common::make_uuid_v4();
  stale.created_at_ms = epoch_ms;  // 5 s before the SUBSCRIBE's check
  h.hub.on_room_message(10, proto::to_json(stale));
  h.hub.on_room_message(10, room_message(10, 2, "still subscribed"));
  h.poll();
  EXPECT_EQ(nlohmann::json::parse(c.next().body)["content"], "alice left");
  EXPECT_EQ(nlohmann::json::parse(c.next().body)["content"], "still subscribed");
}

// Another member's notice, or a notice that only looks like one, ends nothing.
TEST(session_subscribe, someone_elses_left_notice_changes_nothing) {
  harness h;
  auto c = h.connect(1);
  c.send(command::subscribe, {{"id", "r"}, {"destination", "/topic/room.10"}});
  auto other = proto::membership_notice(10, 2, "bob", proto::membership_change::left);
  other.id = 1;
  other.message_key = common::make_uuid_v4();
  other.created_at_ms = epoch_ms;
  h.hub.on_room_message(10, proto::to_json(other));
  h.hub.on_room_message(10, room_message(10, 2, "alice left"));  // TEXT, from bob
  h.hub.on_room_message(10, room_message(10, 3, "still subscribed"));
  h.poll();
  EXPECT_EQ(nlohmann::json::parse(c.next().body)["content"], "bob left");
  EXPECT_EQ(nlohmann::json::parse(c.next().body)["content"], "alice left");
  EXPECT_EQ(nlohmann::json::parse(c.next().body)["content"], "still subscribed");
}

// The node falls behind (nothing runs the strands here): fan-out posted to a session is
// bounded, and what passes the bound is shed and counted; the client, which reads, stays
// and is told how much it missed.
TEST(session_output, fanout_backlog_past_its_bound_is_shed_and_the_client_told) {
  auto settings = harness::defaults();
  settings.max_outbound_bytes = 4096;
  settings.max_pending_fanout_bytes = 8192;
  harness h(settings);
  auto c = h.connect(1);
  c.send(command::subscribe, {{"id", "e"}, {"destination", "/user/queue/errors"}});
  c.send(command::subscribe, {{"id", "s"}, {"destination", "/topic/room.10"}});
  for (int i = 0; i < 100; ++i) h.hub.on_room_message(10, room_message(10, i + 1, std::string(300, 'x')));
  h.poll();
  EXPECT_FALSE(c.t->aborted);
  EXPECT_EQ(h.node_metrics.slow_consumer_disconnects.value(), 0u);
  const auto shed = h.node_metrics.fanout_shed.value();
  EXPECT_GT(shed, 70u);
  // What was posted before the bound was delivered, in order; then the notice of the gap.
  std::size_t delivered = 0;
  std::int64_t last = 0;
  for (;;) {
    ASSERT_FALSE(c.t->frames.empty());
    const auto f = c.next();
    ASSERT_EQ(f.cmd, command::message);
    if (header(f, "destination") == "/user/queue/errors") {
      const auto body = nlohmann::json::parse(f.body);
      EXPECT_EQ(body["code"], "events_dropped");
      EXPECT_NE(body["message"].get<std::string>().find(std::to_string(shed) + " events"), std::string::npos);
      break;
    }
    const auto id = nlohmann::json::parse(f.body)["id"].get<std::int64_t>();
    EXPECT_EQ(id, last + 1);
    last = id;
    ++delivered;
  }
  EXPECT_TRUE(c.t->frames.empty());
  EXPECT_EQ(delivered + shed, 100u);
  h.hub.on_room_message(10, room_message(10, 101));
  h.poll();
  EXPECT_EQ(nlohmann::json::parse(c.next().body)["id"], 101);
}

// ---- admission control ------------------------------------------------------------------------

TEST(session_admission, at_the_bound_the_session_waits_then_publishes_in_order) {
  harness h(harness::defaults(), user_limits{.burst = 100}, chatd::admission_limits{2, 0});
  auto a = h.connect(1);
  auto b = h.connect(2);
  a.send(command::send, {{"destination", "/topic/room.10"}, {"receipt", "a1"}}, "a1");
  a.send(command::send, {{"destination", "/topic/room.10"}, {"receipt", "a2"}}, "a2");
  a.send(command::send, {{"destination", "/topic/room.10"}, {"receipt", "a3"}}, "a3");
  b.send(command::send, {{"destination", "/topic/room.10"}, {"receipt", "b1"}}, "b1");
  EXPECT_EQ(h.log.messages.size(), 2u);
  EXPECT_FALSE(a.s->wants_bytes()) << "a waits for a slot: its socket is not read";
  EXPECT_FALSE(b.s->wants_bytes());
  EXPECT_EQ(h.admission.stats().waiting, 2u);
  h.log.ack(0);  // frees a slot: the oldest waiter (a3) gets it
  h.poll();
  ASSERT_EQ(h.log.messages.size(), 3u);
  EXPECT_EQ(h.log.messages[2].message.content, "a3");
  EXPECT_TRUE(a.s->wants_bytes());
  EXPECT_GT(a.t->resumes, 0);
  h.log.ack(1);
  h.poll();
  ASSERT_EQ(h.log.messages.size(), 4u);
  EXPECT_EQ(h.log.messages[3].message.content, "b1");
  h.log.ack(2);
  h.log.ack(3);
  h.poll();
  for (const char* r : {"a1", "a2", "a3"}) EXPECT_EQ(header(a.next(), "receipt-id"), r);
  EXPECT_EQ(header(b.next(), "receipt-id"), "b1");
  EXPECT_EQ(h.admission.stats().records, 0u);
}

TEST(session_admission, a_wait_past_the_admission_timeout_is_refused_and_the_session_stays) {
  auto settings = harness::defaults();
  settings.admission_timeout = 2s;
  harness h(settings, user_limits{.burst = 100}, chatd::admission_limits{1, 0});
  auto c = h.connect(1);
  c.send(command::send, {{"destination", "/topic/room.10"}, {"receipt", "first"}}, "first");
  c.send(command::send, {{"destination", "/topic/room.10"}, {"receipt", "waits"}}, "waits");
  c.send(command::send, {{"destination", "/topic/room.10"}, {"receipt", "behind"}}, "behind");
  ASSERT_TRUE(c.t->deadline);
  h.clock.advance(2s);
  c.s->on_timer();
  const auto e = c.next();
  ASSERT_EQ(e.cmd, command::error);
  EXPECT_EQ(header(e, "message"), "server overloaded");
  EXPECT_EQ(header(e, "receipt-id"), "waits");
  EXPECT_EQ(header(e, "session-closes"), "false");
  EXPECT_NE(e.body.find("not stored"), std::string::npos) << e.body;
  EXPECT_FALSE(c.t->closing());
  EXPECT_EQ(h.log.messages.size(), 1u) << "a refused SEND is never published";
  // The next frame waits in its turn; the broker answers, and it goes out.
  h.log.ack(0);
  h.poll();
  EXPECT_EQ(header(c.next(), "receipt-id"), "first");
  ASSERT_EQ(h.log.messages.size(), 2u);
  EXPECT_EQ(h.log.messages[1].message.content, "behind");
  h.log.ack(1);
  h.poll();
  EXPECT_EQ(header(c.next(), "receipt-id"), "behind");
  EXPECT_EQ(h.admission.stats().refused, 1u);
}

TEST(session_admission, a_closed_session_gives_its_slots_back) {
  harness h(harness::defaults(), user_limits{.burst = 100}, chatd::admission_limits{1, 0});
  auto c = h.connect(1);
  c.send(command::send, {{"destination", "/topic/room.10"}}, "first");
  c.send(command::send, {{"destination", "/topic/room.10"}}, "waits");
  c.s->on_transport_closed();
  EXPECT_EQ(h.admission.stats().waiting, 0u);
  h.log.ack(0);  // the producer still answers the first: its slot is freed
  h.poll();
  EXPECT_EQ(h.admission.stats().records, 0u);
  EXPECT_EQ(h.log.messages.size(), 1u);
}

// No heart-beats from the client: silence is bounded by the idle timeout; any frame (or a
// heart-beat EOL) restarts it.
TEST(session_output, idle_timeout_without_client_heart_beats) {
  auto settings = harness::defaults();
  settings.idle_timeout = 60s;
  harness h(settings);
  auto c = h.connect(1);
  ASSERT_TRUE(c.t->deadline);
  EXPECT_LE(*c.t->deadline, h.clock.now() + 60s) << "a timer is due by the idle deadline";
  h.clock.advance(59s);
  c.feed("\n");  // an EOL counts as input
  h.clock.advance(59s);
  c.s->on_timer();
  EXPECT_TRUE(c.t->frames.empty());
  h.clock.advance(1s);
  c.s->on_timer();
  const auto e = c.next();
  EXPECT_EQ(header(e, "message"), "idle timeout");
  EXPECT_TRUE(c.t->flushing_close);
  EXPECT_EQ(h.stats.idle_timeouts, 1u);
}

TEST(session_output, no_idle_timeout_when_off_or_heart_beats_guard_the_session) {
  auto off = harness::defaults();
  off.idle_timeout = 0s;
  harness h(off);
  auto c = h.connect(1);
  h.clock.advance(24h);
  c.s->on_timer();
  EXPECT_TRUE(c.t->frames.empty());

  auto beats = harness::defaults();
  beats.heartbeat_receive_ms = 100;
  beats.idle_timeout = 1s;
  harness g(beats);
  auto d = g.connect(1, "100,0");  // heart-beats expected: their own rule applies
  for (int i = 0; i < 20; ++i) {
    g.clock.advance(150ms);
    d.feed("\n");
    d.s->on_timer();
  }
  EXPECT_TRUE(d.t->frames.empty());
  EXPECT_EQ(g.stats.idle_timeouts, 0u);
}

TEST(session_output, stalled_write_is_aborted) {
  harness h;
  auto c = h.connect(1);
  c.t->auto_write = false;
  c.send(command::subscribe, {{"id", "p"}, {"destination", "/user/queue/errors"}, {"receipt", "r"}});
  ASSERT_EQ(c.t->begin_write(), 1u);  // in flight, never completes
  c.t->deadline.reset();
  c.s->on_timer();
  ASSERT_TRUE(c.t->deadline);
  h.clock.advance(h.env->settings.write_stall_timeout);
  c.s->on_timer();
  EXPECT_FALSE(c.t->aborted);
  h.clock.advance(1ms);
  c.s->on_timer();
  EXPECT_TRUE(c.t->aborted);
}

TEST(session_heartbeat, negotiated_sent_and_silence_detected) {
  auto settings = harness::defaults();
  settings.heartbeat_send_ms = 1000;
  settings.heartbeat_receive_ms = 2000;
  harness h(settings);
  auto c = h.open();
  c.send(command::connect, {{"accept-version", "1.2"}, {"passcode", token_for(1)}, {"heart-beat", "3000,500"}});
  const auto f = c.next();
  EXPECT_EQ(header(f, "heart-beat"), "1000,2000");
  // server -> client every max(1000, 500) = 1000 ms; client -> server every max(3000, 2000).
  h.clock.advance(1000ms);
  c.s->on_timer();
  EXPECT_EQ(c.t->heartbeats, 1u);
  c.feed("\n");  // the client's heart-beat
  h.clock.advance(1000ms);
  c.s->on_timer();
  EXPECT_EQ(c.t->heartbeats, 2u);
  for (int i = 0; i < 5; ++i) {
    h.clock.advance(1000ms);
    c.s->on_timer();
  }
  EXPECT_FALSE(c.t->closing()) << "6 s of silence is exactly 2 x 3000 ms";
  h.clock.advance(1ms);
  c.s->on_timer();
  const auto e = c.t->frames.back();
  EXPECT_EQ(header(e, "message"), "heart-beat timeout");
  EXPECT_TRUE(c.t->flushing_close);
}

TEST(session_heartbeat, silence_while_this_node_does_not_read_is_not_the_clients) {
  // An admission wait stops reading the socket: the client's heart-beats wait there unread.
  // That silence is the node's own backpressure, not a dead client.
  auto settings = harness::defaults();
  settings.heartbeat_receive_ms = 1000;
  settings.admission_timeout = 60s;
  harness h(settings, user_limits{.burst = 100}, chatd::admission_limits{1, 0});
  auto c = h.open();
  c.send(command::connect, {{"accept-version", "1.2"}, {"passcode", token_for(1)}, {"heart-beat", "1000,0"}});
  ASSERT_EQ(c.next().cmd, command::connected);
  c.send(command::send, {{"destination", "/topic/room.10"}}, "first");
  c.send(command::send, {{"destination", "/topic/room.10"}}, "waits");
  ASSERT_FALSE(c.s->wants_bytes()) << "waits for a slot: its socket is not read";
  for (int i = 0; i < 10; ++i) {
    h.clock.advance(1000ms);
    c.s->on_timer();
  }
  EXPECT_FALSE(c.t->closing()) << "10 s unread is not 10 s of silence";
  h.log.ack(0);  // a slot: the wait ends and reading resumes
  h.poll();
  ASSERT_TRUE(c.s->wants_bytes());
  h.clock.advance(2000ms);
  c.s->on_timer();
  EXPECT_FALSE(c.t->closing()) << "silence counts from when reading resumed: exactly 2 x 1000 ms";
  h.clock.advance(1ms);
  c.s->on_timer();
  EXPECT_EQ(header(c.t->frames.back(), "message"), "heart-beat timeout");
}

TEST(session_input, malformed_frames_give_the_codec_message_byte_by_byte) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"SEND\ndestination/x\n\n", "malformed"},
      {"SEND\ndestination:/topic/room.10\\t\n\n", "escape"},
      {"SEND\ndestination:/topic/room.\xff\n\n", "UTF-8"},
      {"SEND\ncontent-length:2\n\nabc", "NUL"},
      {"BOGUS\n\n", "command"},
  };
  for (const auto& [input, expected] : cases) {
    harness h;
    auto c = h.connect(1);
    for (const char ch : input) {
      if (c.t->closing()) break;
      c.feed(std::string(1, ch));
    }
    ASSERT_FALSE(c.t->frames.empty()) << input;
    const auto e = c.t->frames.back();
    EXPECT_EQ(e.cmd, command::error) << input;
    EXPECT_NE(header(e, "message").find(expected), std::string::npos) << header(e, "message");
    EXPECT_TRUE(c.t->flushing_close);
    EXPECT_FALSE(c.s->wants_bytes());
  }
}

TEST(session_input, frame_size_limit_from_settings) {
  auto settings = harness::defaults();
  settings.decoder_limits.max_frame_bytes = 2048;
  harness h(settings);
  auto c = h.connect(1);
  c.feed("SEND\ndestination:/topic/room.10\n\n" + std::string(4096, 'x'));
  EXPECT_EQ(c.t->frames.back().cmd, command::error);
  EXPECT_TRUE(h.log.messages.empty());
}

TEST(session_shutdown, stop_reading_then_error) {
  harness h;
  auto c = h.connect(1);
  c.send(command::send, {{"destination", "/topic/room.10"}, {"receipt", "in-flight"}}, "m");
  c.s->stop_reading();
  EXPECT_FALSE(c.s->wants_bytes());
  c.send(command::send, {{"destination", "/topic/room.10"}}, "ignored");
  EXPECT_EQ(h.log.messages.size(), 1u);
  h.log.ack(0);  // the producer flush answers in-flight SENDs
  h.poll();
  EXPECT_EQ(header(c.next(), "receipt-id"), "in-flight");
  c.s->shut_down();
  EXPECT_EQ(header(c.next(), "message"), "server shutting down");
  EXPECT_TRUE(c.t->flushing_close);
}

// The producer flush can return before a SEND that was read (or waited for its membership
// lookup) just before stop_reading is published: its RECEIPT must still precede the goodbye,
// or the client never learns that Kafka accepted it.
TEST(session_shutdown, goodbye_waits_for_sends_already_handed_to_the_log) {
  harness h;
  auto c = h.connect(1);
  c.send(command::send, {{"destination", "/topic/room.10"}, {"receipt", "late"}}, "m");
  ASSERT_EQ(h.log.messages.size(), 1u);
  c.s->stop_reading();
  c.s->shut_down();
  EXPECT_TRUE(c.t->frames.empty()) << "no goodbye while a SEND is in flight";
  EXPECT_FALSE(c.t->closing());
  h.log.ack(0);
  h.poll();
  EXPECT_EQ(header(c.next(), "receipt-id"), "late");
  EXPECT_EQ(header(c.next(), "message"), "server shutting down");
  EXPECT_TRUE(c.t->flushing_close);
}

// Every SEND with a receipt is answered through a shutdown: waiting for a slot, or
// waiting behind a lookup, it is refused in words before the goodbye.
TEST(session_shutdown, sends_not_processed_are_answered_before_the_goodbye) {
  harness h(harness::defaults(), user_limits{.burst = 100}, chatd::admission_limits{1, 0});
  auto c = h.connect(1);
  c.send(command::send, {{"destination", "/topic/room.10"}, {"receipt", "in-flight"}}, "m");
  c.send(command::send, {{"destination", "/topic/room.10"}, {"receipt", "waiting"}}, "m");
  c.send(command::send, {{"destination", "/topic/room.10"}, {"receipt", "unread"}}, "m");
  c.s->stop_reading();
  const auto unread = c.next();
  EXPECT_EQ(header(unread, "receipt-id"), "unread");
  EXPECT_EQ(header(unread, "message"), "server shutting down");
  EXPECT_EQ(header(unread, "session-closes"), "false");
  c.s->shut_down();
  const auto waiting = c.next();
  EXPECT_EQ(header(waiting, "receipt-id"), "waiting");
  EXPECT_EQ(header(waiting, "message"), "server shutting down");
  EXPECT_TRUE(c.t->frames.empty());
  h.log.ack(0);
  h.poll();
  EXPECT_EQ(header(c.next(), "receipt-id"), "in-flight");
  EXPECT_EQ(header(c.next(), "message"), "server shutting down");
  EXPECT_TRUE(c.t->flushing_close);
  EXPECT_EQ(h.log.messages.size(), 1u);
}

TEST(session_shutdown, a_send_waiting_for_its_membership_lookup_is_answered) {
  harness h;
  h.dir.immediate = false;
  auto c = h.open();
  c.send(command::connect, {{"accept-version", "1.2"}, {"passcode", token_for(1)}});
  h.dir.release_one();  // nickname
  h.poll();
  ASSERT_EQ(c.next().cmd, command::connected);
  c.send(command::send, {{"destination", "/topic/room.10"}, {"receipt", "looking"}}, "m");
  c.s->stop_reading();
  c.s->shut_down();
  const auto refused = c.next();
  EXPECT_EQ(header(refused, "receipt-id"), "looking");
  EXPECT_EQ(header(refused, "message"), "server shutting down");
  EXPECT_EQ(header(c.next(), "message"), "server shutting down");
  EXPECT_TRUE(c.t->flushing_close);
  h.dir.release_one();  // the lookup answers late: nothing more
  h.poll();
  EXPECT_TRUE(c.t->frames.empty());
  EXPECT_TRUE(h.log.messages.empty());
}

TEST(session_shutdown, goodbye_at_once_without_sends_in_flight) {
  harness h;
  auto c = h.connect(1);
  c.s->shut_down();
  EXPECT_EQ(header(c.next(), "message"), "server shutting down");
  EXPECT_TRUE(c.t->flushing_close);
}

}  // namespace
}  // namespace chat::gateway::test

namespace chat::gateway::test {
namespace {

TEST(session_metrics, sessions_gauge_and_delivery_latency) {
  metrics::registry registry;
  metrics::chat_metrics m(registry);
  harness h;
  h.stats.metrics = &m;
  auto c = h.connect(1);
  EXPECT_EQ(m.tcp_sessions.value(), 1.0);
  EXPECT_EQ(m.websocket_sessions.value(), 0.0);
  c.send(command::subscribe, {{"id", "r"}, {"destination", "/topic/room.10"}});
  proto::chat_message msg;
  msg.id = 5;
  msg.message_key = common::make_uuid_v4();
  msg.room_id = 10;
  msg.sender_id = 2;
  msg.content = "x";
  msg.created_at_ms = h.clock.unix_ms() - 250;
  h.hub.on_room_message(10, proto::to_json(msg));
  h.poll();
  EXPECT_EQ(c.next().cmd, command::message);
  EXPECT_EQ(m.delivery_latency.count(), 1u);
  EXPECT_NEAR(m.delivery_latency.sum(), 0.25, 0.001);
  c.send(command::send, {{"destination", "/topic/room.10"}}, "m");
  h.log.ack(0);
  h.poll();
  EXPECT_EQ(m.messages_sent.value(), 1u);
  c.s->on_transport_closed();
  EXPECT_EQ(m.tcp_sessions.value(), 0.0);
}

}  // namespace
}  // namespace chat::gateway::test
