#pragma once
// Fakes for the gateway's ports, and a harness that runs one or more session cores against
// a fake transport on a single-threaded io_context with an injected clock.
#include "core/message_log.hpp"
#include "gateway/fanout_hub.hpp"
#include "gateway/ports.hpp"
#include "gateway/session.hpp"
#include "gateway/transport.hpp"
#include "gateway/user_registry.hpp"
#include "metrics/chat_metrics.hpp"

#include <chat/auth/jwt.hpp>
#include <chat/stomp/decoder.hpp>
#include <chat/stomp/encoder.hpp>

#include <boost/asio/io_context.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <deque>
#include <map>
#include <set>
#include <tuple>

namespace chat::gateway::test {

inline constexpr std::string_view secret = "unit-test-secret-0123456789abcdef0123";
inline constexpr std::int64_t epoch_ms = 1'800'000'000'000;  // 2027-01-15

class fake_clock final : public clock_source {
 public:
  time_point now() const override { return steady_; }
  std::int64_t unix_ms() const override { return unix_ms_; }
  void advance(std::chrono::milliseconds d) {
    steady_ += d;
    unix_ms_ += d.count();
  }

 private:
  time_point steady_ = time_point{} + std::chrono::hours(1000);
  std::int64_t unix_ms_ = epoch_ms;
};

// Answers at once (immediate = true) or keeps the callbacks until release().
class fake_directory final : public directory {
 public:
  bool immediate = true;
  bool down = false;
  std::map<std::int64_t, std::string> nicknames;
  std::set<std::pair<std::int64_t, std::int64_t>> members;  // (room, user)
  std::map<std::int64_t, std::vector<std::int64_t>> contacts_of;
  int membership_lookups = 0;
  std::deque<std::function<void()>> held;

  void nickname(std::int64_t user, std::function<void(lookup_status, std::string)> done) override {
    run([this, user, done] {
      if (down) return done(lookup_status::unavailable, {});
      const auto it = nicknames.find(user);
      if (it == nicknames.end()) return done(lookup_status::not_found, {});
      done(lookup_status::found, it->second);
    });
  }
  // Blocks: (blocker, blocked); DIRECT rooms: room -> its two members.
  std::set<std::pair<std::int64_t, std::int64_t>> blocks;
  std::map<std::int64_t, std::pair<std::int64_t, std::int64_t>> direct;
  room_gate gate_of(std::int64_t room, std::int64_t user) const {
    const auto it = direct.find(room);
    if (it == direct.end()) return {};
    const auto peer = it->second.first == user ? it->second.second : it->second.first;
    return {peer, blocks.contains({user, peer}) || blocks.contains({peer, user})};
  }
  // CONNECT also names the user's rooms (as db_directory does), when set; blocks always.
  bool rooms_on_connect = false;
  int connect_lookups = 0;
  void connecting_user(std::int64_t user, std::function<void(lookup_status, connecting_user_info)> done) override {
    ++connect_lookups;
    nickname(user, [this, user, done](lookup_status status, std::string nick) {
      connecting_user_info info;
      info.nickname = std::move(nick);
      if (status == lookup_status::found) {
        for (const auto& [room, member] : members) {
          if (member == user && rooms_on_connect) info.rooms.push_back({room, gate_of(room, user)});
        }
        for (const auto& [blocker, blocked] : blocks) {
          if (blocker == user) info.blocks.push_back(blocked);
        }
      }
      done(status, std::move(info));
    });
  }
  void membership(std::int64_t room, std::int64_t user, std::function<void(lookup_status, room_gate)> done) override {
    ++membership_lookups;
    run([this, room, user, done] {
      if (down) return done(lookup_status::unavailable, {});
      if (!members.contains({room, user})) return done(lookup_status::not_found, {});
      done(lookup_status::found, gate_of(room, user));
    });
  }
  void contacts(std::int64_t user, std::function<void(lookup_status, std::vector<std::int64_t>)> done) override {
    run([this, user, done] {
      if (down) return done(lookup_status::unavailable, {});
      done(lookup_status::found, contacts_of[user]);
    });
  }
  // Room events: the store's messages by id (room, sender, ...), admins by (room, user), pins.
  struct stored_message {
    std::int64_t room_id = 0;
    chatd::target_message target;
  };
  std::map<std::int64_t, stored_message> stored;
  std::set<std::pair<std::int64_t, std::int64_t>> admins;  // (room, user)
  std::map<std::int64_t, int> pin_counts;                  // room -> pinned messages
  std::map<std::string, proto::file_attachment> files;     // file id -> metadata (any user may attach)
  std::vector<std::tuple<std::int64_t, std::int64_t, std::int64_t>> hidden;  // (user, room, message)
  int context_lookups = 0;

  void event_context(std::int64_t room, std::int64_t user, std::int64_t target,
                     std::function<void(lookup_status, chatd::target_context)> done) override {
    ++context_lookups;
    run([this, room, user, target, done] {
      if (down) return done(lookup_status::unavailable, {});
      chatd::target_context ctx;
      ctx.room_exists = std::any_of(members.begin(), members.end(), [&](const auto& m) { return m.first == room; });
      ctx.member = members.contains({room, user});
      if (admins.contains({room, user})) ctx.role = proto::room_role::admin;
      const auto gate = gate_of(room, user);
      ctx.direct_peer = gate.direct_peer;
      ctx.blocked = gate.blocked;
      ctx.pin_count = pin_counts[room];
      if (const auto it = stored.find(target); it != stored.end() && it->second.room_id == room) {
        ctx.target = it->second.target;
      }
      done(lookup_status::found, ctx);
    });
  }
  void attachable_file(std::string file_id, std::int64_t,
                       std::function<void(lookup_status, proto::file_attachment)> done) override {
    run([this, file_id, done] {
      if (down) return done(lookup_status::unavailable, {});
      const auto it = files.find(file_id);
      if (it == files.end()) return done(lookup_status::not_found, {});
      done(lookup_status::found, it->second);
    });
  }
  void hide_message(std::int64_t user, std::int64_t room, std::int64_t message,
                    std::function<void(lookup_status)> done) override {
    run([this, user, room, message, done] {
      if (down) return done(lookup_status::unavailable);
      hidden.emplace_back(user, room, message);
      done(lookup_status::found);
    });
  }
  // Recovery: the room's stored events (rendered as live delivery does), the store's progress
  // per partition, and what was asked.
  std::map<std::int64_t, std::vector<proto::chat_message>> room_events;  // room -> events, by id
  std::map<std::int32_t, std::int64_t> progress;                         // partition -> next offset
  struct recovery_ask {
    std::int64_t room, user, after;
    std::int32_t partition;
    std::int64_t stored_through;
    int limit;
  };
  std::vector<recovery_ask> recovery_asks;
  void recovery(std::int64_t room, std::int64_t user, std::int64_t after, std::int32_t partition,
                std::int64_t stored_through, int limit,
                std::function<void(lookup_status, recovery_page)> done) override {
    recovery_asks.push_back({room, user, after, partition, stored_through, limit});
    run([this, room, after, partition, stored_through, limit, done] {
      if (down) return done(lookup_status::unavailable, {});
      recovery_page page;
      page.ready = progress[partition] >= stored_through;
      if (page.ready) {
        std::vector<proto::chat_message> after_id;
        for (const auto& m : room_events[room]) {
          if (m.id > after) after_id.push_back(m);
        }
        if (static_cast<int>(after_id.size()) > limit) {
          page.truncated = true;
          after_id.erase(after_id.begin(), after_id.end() - limit);
        }
        for (const auto& m : after_id) {
          std::string json;
          proto::append_json(m, json);
          page.events.push_back(make_room_event(m, json));
        }
      }
      done(lookup_status::found, std::move(page));
    });
  }

  // The room feed: each user's rows of GET /api/rooms.
  std::map<std::int64_t, std::vector<proto::room_summary>> room_rows;
  int room_list_lookups = 0;
  std::map<std::int64_t, std::vector<std::int64_t>> user_blocks;  // whom each user blocks
  void room_list(std::int64_t user, std::function<void(lookup_status, room_list_page)> done) override {
    ++room_list_lookups;
    run([this, user, done] {
      if (down) return done(lookup_status::unavailable, {});
      done(lookup_status::found, room_list_page{room_rows[user], user_blocks[user]});
    });
  }
  void room_summary(std::int64_t user, std::int64_t room,
                    std::function<void(lookup_status, std::optional<proto::room_summary>)> done) override {
    run([this, user, room, done] {
      if (down) return done(lookup_status::unavailable, std::nullopt);
      for (const auto& r : room_rows[user]) {
        if (r.id == room) return done(lookup_status::found, r);
      }
      done(lookup_status::not_found, std::nullopt);
    });
  }
  // Completes the oldest held lookup.
  void release_one() {
    ASSERT_FALSE(held.empty());
    auto f = std::move(held.front());
    held.pop_front();
    f();
  }

 private:
  void run(std::function<void()> f) {
    if (immediate) {
      f();
    } else {
      held.push_back(std::move(f));
    }
  }
};

// Where chat.messages ends: room -> partition (room % partitions) and the partitions' ends.
// Answers at once, or keeps the callbacks (immediate = false) until release().
class fake_positions final : public chatd::log_positions {
 public:
  bool immediate = true;
  bool down = false;
  std::int32_t partitions = 4;
  std::map<std::int32_t, std::int64_t> ends;
  std::deque<std::function<void()>> held;
  int asks = 0;

  void room_log_end(std::int64_t room, std::function<void(const chatd::log_end&)> done) override {
    ++asks;
    auto answer = [this, room, done] {
      chatd::log_end e;
      e.partition = static_cast<std::int32_t>(room % partitions);
      if (down) {
        e.error = "broker down";
      } else {
        e.ok = true;
        e.high_watermark = ends[e.partition];
      }
      done(e);
    };
    if (immediate) {
      answer();
    } else {
      held.push_back(answer);
    }
  }
  void release() {
    while (!held.empty()) {
      auto f = std::move(held.front());
      held.pop_front();
      f();
    }
  }
};

class fake_log final : public chatd::message_log {
 public:
  struct published {
    proto::chat_message message;
    chatd::publish_callback cb;
  };
  std::vector<published> messages;
  std::vector<std::pair<proto::read_receipt, chatd::publish_callback>> receipts;

  void publish_message(const proto::chat_message& m, chatd::publish_callback cb) override {
    messages.push_back({m, std::move(cb)});
  }
  void publish_read_receipt(const proto::read_receipt& r, chatd::publish_callback cb) override {
    receipts.emplace_back(r, std::move(cb));
  }
  // Acknowledges publish `i` at partition 0, offset `i` (message id = i).
  void ack(std::size_t i, bool ok = true) { ack_at(i, 0, static_cast<std::int64_t>(i), ok); }
  void ack_at(std::size_t i, std::int32_t partition, std::int64_t offset, bool ok = true) {
    chatd::publish_result r;
    r.ok = ok;
    r.error = ok ? "" : "Broker: Invalid record";
    if (ok) {
      r.partition = partition;
      r.offset = offset;
    }
    messages.at(i).cb(r);
  }
};

class fake_presence final : public presence_sink, public typing_sink {
 public:
  std::vector<std::pair<std::string, std::int64_t>> events;  // ("open"/"close", user)
  std::vector<proto::typing_event> typing;
  void session_opened(std::int64_t user) override { events.emplace_back("open", user); }
  void session_closed(std::int64_t user) override { events.emplace_back("close", user); }
  void publish_typing(const proto::typing_event& e) override { typing.push_back(e); }
};

class fake_control final : public channel_control {
 public:
  std::vector<std::string> ops;  // "+chat:room:1", "-chat:room:1"
  void subscribe(const std::string& c) override { ops.push_back("+" + c); }
  void unsubscribe(const std::string& c) override { ops.push_back("-" + c); }
};

// Records what the session asks of its transport; decodes the written octets as a client.
class fake_transport final : public transport {
 public:
  explicit fake_transport(session& s) : s_(s) {}

  bool auto_write = true;  // complete every write at once (a fast client)
  bool flushing_close = false;
  bool aborted = false;
  int resumes = 0;
  int handshakes_finished = 0;
  std::optional<time_point> deadline;
  std::vector<stomp::frame> frames;  // decoded output
  std::size_t heartbeats = 0;
  std::vector<std::vector<boost::asio::const_buffer>> writes;  // buffers of each write

  void output_ready() override {
    if (auto_write && !in_flight_) write();
  }
  void schedule(time_point t) override {
    if (!deadline || t < *deadline) deadline = t;
  }
  void close_after_flush() override { flushing_close = true; }
  void abort() override { aborted = true; }
  void resume_reading() override { ++resumes; }
  void handshake_finished() override { ++handshakes_finished; }

  bool closing() const { return flushing_close || aborted; }

  // Starts a write of everything queued (stays "in flight" until complete()).
  std::size_t begin_write() {
    std::vector<boost::asio::const_buffer> buffers;
    in_flight_ = s_.collect_output(buffers, 1000);
    if (in_flight_ > 0) writes.push_back(buffers);
    return in_flight_;
  }
  void complete() {
    for (const auto& b : writes.back()) {
      decoder_.feed(
          std::string_view(static_cast<const char*>(b.data()), b.size()),
          [this](stomp::frame&& f) { frames.push_back(std::move(f)); }, [this] { ++heartbeats; });
    }
    s_.on_output_written(in_flight_);
    in_flight_ = 0;
  }
  void write() {
    while (begin_write() > 0) complete();
  }

  // Pops the next decoded frame.
  stomp::frame next() {
    EXPECT_FALSE(frames.empty()) << "no frame written";
    if (frames.empty()) return {};
    auto f = std::move(frames.front());
    frames.erase(frames.begin());
    return f;
  }

 private:
  session& s_;
  std::size_t in_flight_ = 0;
  stomp::decoder decoder_;
};

inline std::string token_for(std::int64_t user, std::int64_t now_ms = epoch_ms, std::int64_t ttl_s = 3600) {
  auth::claims c;
  c.user_id = user;
  c.email = "u@example.com";
  c.issued_at = now_ms / 1000;
  c.expires_at = now_ms / 1000 + ttl_s;
  c.token_id = "test-jti";
  return auth::sign_jwt(c, secret);
}

inline std::string wire(stomp::command cmd, std::vector<stomp::header> headers, std::string body = {}) {
  return stomp::encode(stomp::frame{cmd, std::move(headers), std::move(body)});
}

// A node's worth of fakes and real core objects (hub, user registry).
struct harness {
  fake_clock clock;
  fake_directory dir;
  fake_log log;
  fake_presence presence;
  fake_control control;
  fake_positions positions;
  fanout_hub hub;
  user_registry users;
  session_set sessions;
  chatd::admission_gate admission;
  // What /metrics would show: the one place sessions count what has a metric.
  metrics::registry registry;
  metrics::chat_metrics node_metrics{registry};
  gateway_stats stats;
  std::shared_ptr<session_env> env;
  boost::asio::io_context ioc;  // last: destroyed first, with any handler still holding a session

  explicit harness(session_settings settings = defaults(), user_limits limits = {},
                   chatd::admission_limits admission_limits = {})
      : users(limits), admission(admission_limits) {
    settings.jwt_secret = std::string(secret);
    stats.metrics = &node_metrics;
    env = std::make_shared<session_env>(
        session_env{settings, clock, dir, log, hub, users, presence, presence, sessions, stats, admission, nullptr});
    env->positions = &positions;
    hub.set_control(&control);
    dir.nicknames = {{1, "alice"}, {2, "bob"}, {3, "carol"}};
    dir.members = {{10, 1}, {10, 2}, {11, 1}};
  }

  static session_settings defaults() {
    session_settings s;
    s.heartbeat_send_ms = 0;
    s.heartbeat_receive_ms = 0;
    return s;
  }

  struct client {
    std::shared_ptr<session> s;
    std::unique_ptr<fake_transport> t;
    harness* h;

    void feed(const std::string& bytes) {
      s->on_bytes(bytes);
      h->ioc.poll();
      h->ioc.restart();
    }
    void send(stomp::command cmd, std::vector<stomp::header> headers, std::string body = {}) {
      feed(wire(cmd, std::move(headers), std::move(body)));
    }
    stomp::frame next() { return t->next(); }
  };

  client open(std::string id = "s") {
    client c;
    c.h = this;
    c.s = std::make_shared<session>(ioc.get_executor(), env, std::move(id));
    c.t = std::make_unique<fake_transport>(*c.s);
    c.s->start(*c.t);
    return c;
  }

  // Opens a session and completes CONNECT for `user`; the CONNECTED frame is consumed.
  client connect(std::int64_t user, std::string heart_beat = "0,0") {
    auto c = open("s" + std::to_string(user));
    c.send(stomp::command::connect,
           {{"accept-version", "1.2"}, {"passcode", token_for(user, clock.unix_ms())}, {"heart-beat", heart_beat}});
    const auto f = c.next();
    EXPECT_EQ(f.cmd, stomp::command::connected);
    return c;
  }

  void poll() {
    ioc.poll();
    ioc.restart();
  }
};

}  // namespace chat::gateway::test
