#include "runner.hpp"

#include "accounting.hpp"
#include "scheduler.hpp"

#include <chat/client/rest_client.hpp>
#include <chat/client/stomp_client.hpp>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include <nlohmann/json.hpp>

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <cstdio>
#include <memory>
#include <mutex>
#include <random>
#include <stdexcept>
#include <thread>

namespace chatload {

namespace net = boost::asio;
using namespace std::chrono_literals;
using chat::client::stomp_client;

std::string expand_template(std::string_view tmpl, std::string_view room, std::string_view user) {
  std::string out;
  out.reserve(tmpl.size() + 16);
  for (std::size_t i = 0; i < tmpl.size();) {
    if (tmpl.substr(i).starts_with("{room}")) {
      out += room;
      i += 6;
    } else if (tmpl.substr(i).starts_with("{user}")) {
      out += user;
      i += 6;
    } else {
      out += tmpl[i++];
    }
  }
  return out;
}

namespace {

std::int64_t now_ns() noexcept {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

std::uint64_t to_us(std::int64_t ns) noexcept { return ns <= 0 ? 0 : static_cast<std::uint64_t>(ns / 1000); }

std::chrono::steady_clock::time_point to_time_point(std::int64_t ns) {
  return std::chrono::steady_clock::time_point(
      std::chrono::duration_cast<std::chrono::steady_clock::duration>(std::chrono::nanoseconds(ns)));
}

// Parses the decimal digits of `s` (no sign); nullopt when empty or not all digits.
std::optional<std::uint64_t> parse_u64(std::string_view s) noexcept {
  std::uint64_t v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc{} || end != s.data() + s.size()) return std::nullopt;
  return v;
}

// Statistics of one I/O thread; merged after the threads have stopped.
struct worker_stats {
  histogram delivery;
  histogram receipt;
  histogram connect;
  histogram subscribe;
  histogram send_lag;
  interval_series per_second;
};
thread_local worker_stats* tls_stats = nullptr;

struct user_account {
  std::int64_t id = 0;
  std::string email;
  std::string token;
};

struct subscription {
  std::int64_t room_id = 0;
  std::uint32_t room = 0;  // index in the plan
  std::uint32_t slot = 0;  // this user's member slot in the room
  std::string send_dest;   // generic mode: the expanded --send-dest
  std::string sub_dest;
  std::uint64_t next_seq = 0;  // sessions model: this sender's next sequence in the room
};

// Everything below is touched only on the session's strand once the session runs.
struct session {
  std::uint32_t user = 0;
  std::shared_ptr<stomp_client> client;
  std::vector<subscription> subs;
  std::string session_id;  // CONNECTED "session" header
  std::int64_t connect_started_ns = 0;
  std::int64_t subscribe_started_ns = 0;
  int pending_subscribe_receipts = 0;
  // Send buffers, reused: no allocation per message once grown.
  std::string payload;
  std::string body;
  // Sessions model.
  std::unique_ptr<net::steady_timer> timer;
  std::uint64_t timer_gen = 0;
  std::uint64_t sends = 0;
  bool waiting = false;
  bool done = false;
  std::uint64_t inflight_g = 0;
  std::int64_t inflight_planned_ns = 0;
};

class load_run {
 public:
  explicit load_run(const run_options& o)
      : opt_(o),
        plan_{o.users, o.rooms, o.members, o.rate, std::chrono::duration<double>(o.ramp_up).count()},
        measure_start_ns_(std::chrono::nanoseconds(o.ramp_up + o.warmup).count()),
        end_offset_ns_(std::chrono::nanoseconds(o.ramp_up + o.warmup + o.duration).count()),
        planned_(o.model == load_model::open ? plan_.sends_in(static_cast<double>(end_offset_ns_) / 1e9) : 0),
        ledger_(plan_, o.model == load_model::open ? std::max<std::uint64_t>(planned_, 1) : o.max_messages),
        workers_(o.io_threads) {
    const auto seconds = static_cast<std::size_t>((end_offset_ns_ + 999'999'999) / 1'000'000'000);
    for (auto& w : workers_) w.per_second = interval_series(seconds);
    std::random_device rd;
    nonce_ = ((std::uint64_t{rd()} << 32) | rd()) & ((std::uint64_t{1} << 60) - 1);
  }

  run_result execute();

 private:
  void setup();
  void setup_rest();
  void check_fixture();
  void relogin_all();
  template <class Job>
  void rest_pool(std::uint32_t total, Job&& job);
  void open_sessions();
  void run_open_model();
  void run_sessions_model();
  void drain_and_close();
  void issue_open(session& s, std::uint64_t g, std::int64_t planned_ns);
  std::error_code do_send(session& s, subscription& sub, std::uint64_t g, std::int64_t planned_ns, std::int64_t now);
  void schedule_next(session& s, std::int64_t at_ns);
  void session_send(session& s, std::int64_t planned_ns);
  void session_finished(session& s);
  void on_message(session& s, chat::stomp::frame& f);
  void on_receipt(session& s, std::string_view id);
  void record_receipt(std::int64_t planned_ns, std::int64_t now);
  void count_error(std::string kind);
  void progress_tick(double t, bool final_line = false);

  run_options opt_;
  plan plan_;
  std::int64_t measure_start_ns_;  // planned offsets before this are ramp-up / warm-up
  std::int64_t end_offset_ns_;     // no send is planned at or after this offset
  std::uint64_t planned_;
  ledger ledger_;
  std::uint64_t nonce_ = 0;

  std::vector<user_account> accounts_;
  std::vector<std::int64_t> room_ids_;
  std::string setup_source_ = "created";
  double setup_s_ = 0;
  double sessions_s_ = 0;

  // Declared before the sessions so that they (sockets, timers) go before it.
  net::io_context ioc_{static_cast<int>(opt_.io_threads)};
  std::vector<std::unique_ptr<session>> sessions_;
  std::vector<worker_stats> workers_;
  histogram scheduler_lag_;
  std::atomic<std::int64_t> t0_ns_{0};
  std::atomic<bool> shutting_down_{false};
  std::atomic<bool> stop_scheduler_{false};

  std::atomic<std::uint64_t> ready_{0}, closed_{0}, failed_{0}, sessions_done_{0};
  std::atomic<std::uint64_t> sent_{0}, dropped_{0}, send_errors_{0}, receipts_{0}, delivered_{0},
      receipt_timeouts_{0};
  std::mutex errors_mutex_;
  std::map<std::string, std::uint64_t> errors_;
  std::uint64_t error_total_ = 0;  // guarded by errors_mutex_
  std::vector<timeline_point> timeline_;
  timeline_point last_tick_;
  cpu_times last_cpu_;
  std::int64_t last_tick_ns_ = 0;
  bool tty_ = false;
};

void load_run::count_error(std::string kind) {
  std::lock_guard lock(errors_mutex_);
  ++errors_[std::move(kind)];
  ++error_total_;
}

std::string describe(const chat::client::response& r) {
  if (r.error) return r.error.message();
  return "HTTP " + std::to_string(r.status) + " " + r.api.code + ": " + r.api.message;
}

template <class Job>
void load_run::rest_pool(std::uint32_t total, Job&& job) {
  std::atomic<std::uint32_t> next{0};
  std::mutex fail_mutex;
  std::string failure;
  std::vector<std::thread> threads;
  for (unsigned t = 0; t < std::max(1u, opt_.setup_threads); ++t) {
    threads.emplace_back([&] {
      chat::client::rest_client api(opt_.http, {.timeout = 30s, .user_agent = "chatload"});
      for (std::uint32_t i = next++; i < total; i = next++) {
        {
          std::lock_guard lock(fail_mutex);
          if (!failure.empty()) return;
        }
        std::string why = job(api, i);
        if (!why.empty()) {
          std::lock_guard lock(fail_mutex);
          if (failure.empty()) failure = std::move(why);
          return;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  if (!failure.empty()) throw std::runtime_error(failure);
}

void load_run::setup_rest() {
  accounts_.resize(opt_.users);
  room_ids_.resize(opt_.rooms);
  const std::string run_tag = message_key(nonce_, 0).substr(0, 8);
  rest_pool(opt_.users, [&](chat::client::rest_client& api, std::uint32_t i) -> std::string {
    const std::string name = "load-" + run_tag + "-" + std::to_string(i);
    auto r = api.signup(name + "@example.com", opt_.password, name);
    if (!r) return "signup of " + name + " failed: " + describe(r.http);
    accounts_[i] = {r.value->user_id, name + "@example.com", r.value->token};
    return {};
  });
  rest_pool(opt_.rooms, [&](chat::client::rest_client& api, std::uint32_t r) -> std::string {
    std::vector<std::int64_t> ids;
    for (std::uint32_t j = 1; j < opt_.members; ++j) ids.push_back(accounts_[plan_.user_of(r, j)].id);
    api.set_token(accounts_[plan_.user_of(r, 0)].token);
    auto res = api.create_group("load-" + run_tag + "-room-" + std::to_string(r), ids);
    if (!res) return "creating room " + std::to_string(r) + " failed: " + describe(res.http);
    room_ids_[r] = res.value->id;
    return {};
  });
}

void load_run::relogin_all() {
  const std::string password = opt_.reuse->password;
  rest_pool(opt_.users, [&](chat::client::rest_client& api, std::uint32_t i) -> std::string {
    auto r = api.login(accounts_[i].email, password);
    if (!r)
      return "fixture user " + accounts_[i].email + " cannot log in (" + describe(r.http) +
             "): the fixture does not belong to this server or database";
    if (r.value->user_id != accounts_[i].id)
      return "fixture user " + accounts_[i].email + " has id " + std::to_string(r.value->user_id) + " here, not " +
             std::to_string(accounts_[i].id);
    accounts_[i].token = r.value->token;
    return {};
  });
}

// A reused fixture must belong to this server: the first user's token (or a fresh login) and
// the first room's members are checked; tokens are renewed by login when refused.
void load_run::check_fixture() {
  chat::client::rest_client api(opt_.http, {.timeout = 30s, .user_agent = "chatload"});
  api.set_token(accounts_[0].token);
  auto me = api.me();
  if (me.http.error) throw std::runtime_error("fixture check: GET /api/users/me: " + describe(me.http));
  bool renewed = false;
  if (!me || me.value->id != accounts_[0].id) {
    relogin_all();
    renewed = true;
  }
  const std::uint32_t owner = plan_.user_of(0, 0);
  api.set_token(accounts_[owner].token);
  auto room = api.room(room_ids_[0]);
  if (!room)
    throw std::runtime_error("fixture check: room " + std::to_string(room_ids_[0]) + ": " + describe(room.http) +
                             ": the fixture does not belong to this server or database");
  for (std::uint32_t j = 0; j < opt_.members; ++j) {
    const auto want = accounts_[plan_.user_of(0, j)].id;
    if (std::none_of(room.value->members.begin(), room.value->members.end(), [&](const auto& m) { return m.user_id == want; }))
      throw std::runtime_error("fixture check: user " + std::to_string(want) + " is not a member of room " +
                               std::to_string(room_ids_[0]) + " on this server");
  }
  if (renewed && !opt_.fixture_path.empty()) {
    fixture f = *opt_.reuse;
    for (std::uint32_t i = 0; i < opt_.users; ++i) f.accounts[i].token = accounts_[i].token;
    std::string why;
    if (!save_fixture(opt_.fixture_path, f, why)) count_error("fixture_write: " + why);
  }
}

void load_run::setup() {
  const auto start = std::chrono::steady_clock::now();
  if (opt_.reuse) {
    setup_source_ = "fixture";
    for (const auto& a : opt_.reuse->accounts) accounts_.push_back({a.user_id, a.email, a.token});
    room_ids_ = opt_.reuse->room_ids;
    if (!opt_.generic) check_fixture();
  } else if (opt_.generic) {
    setup_source_ = "none";
    accounts_.resize(opt_.users);
    room_ids_.resize(opt_.rooms);
    for (std::uint32_t r = 0; r < opt_.rooms; ++r) room_ids_[r] = r;
  } else {
    setup_source_ = "created";
    setup_rest();
    if (!opt_.fixture_path.empty()) {
      fixture f;
      f.url = chat::client::to_string(opt_.http);
      f.users = opt_.users;
      f.rooms = opt_.rooms;
      f.members = opt_.members;
      f.password = opt_.password;
      for (const auto& a : accounts_) f.accounts.push_back({a.email, a.id, a.token});
      f.room_ids = room_ids_;
      std::string why;
      if (!save_fixture(opt_.fixture_path, f, why)) throw std::runtime_error(why);
    }
  }
  setup_s_ = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (opt_.progress)
    std::fprintf(stderr, "chatload: set-up %s in %.1f s (%u users, %u rooms)\n",
                 setup_source_ == "fixture" ? "reused from the fixture" : setup_source_ == "none" ? "skipped (generic)" : "created",
                 setup_s_, opt_.users, opt_.rooms);
}

void load_run::open_sessions() {
  sessions_.reserve(opt_.users);
  for (std::uint32_t u = 0; u < opt_.users; ++u) {
    auto s = std::make_unique<session>();
    s->user = u;
    sessions_.push_back(std::move(s));
  }
  for (std::uint32_t r = 0; r < opt_.rooms; ++r) {
    for (std::uint32_t j = 0; j < opt_.members; ++j) {
      subscription sub{room_ids_[r], r, j};
      if (opt_.generic) {
        const std::string room = std::to_string(room_ids_[r]);
        const std::string user = std::to_string(plan_.user_of(r, j));
        sub.send_dest = expand_template(opt_.send_dest, room, user);
        sub.sub_dest = expand_template(opt_.sub_dest, room, user);
      } else {
        sub.sub_dest = "/topic/room." + std::to_string(room_ids_[r]);
      }
      sessions_[plan_.user_of(r, j)]->subs.push_back(std::move(sub));
    }
  }

  for (auto& sp : sessions_) {
    session& s = *sp;
    chat::client::stomp_options so;
    so.server = opt_.stomp;
    so.virtual_host = opt_.vhost;
    so.max_outbound_bytes = 1024 * 1024;
    const auto& acc = accounts_[s.user];
    if (opt_.generic) {
      const std::string user = std::to_string(s.user);
      so.login = opt_.login.empty() && !acc.email.empty() ? acc.email : expand_template(opt_.login, "", user);
      so.passcode = opt_.passcode.empty() && !acc.token.empty() ? acc.token : expand_template(opt_.passcode, "", user);
    } else {
      so.token = acc.token;
    }
    s.client = stomp_client::create(
        ioc_.get_executor(), so,
        {.on_connected =
             [this, &s](const chat::stomp::frame& f) {
               const auto now = now_ns();
               tls_stats->connect.record(to_us(now - s.connect_started_ns));
               if (auto id = f.get("session")) s.session_id = std::string(*id);
               if (!opt_.generic) s.client->subscribe("/user/queue/errors", "err");
               s.pending_subscribe_receipts = static_cast<int>(s.subs.size());
               s.subscribe_started_ns = now;
               for (std::size_t k = 0; k < s.subs.size(); ++k) {
                 const std::string n = std::to_string(k);
                 s.client->subscribe(s.subs[k].sub_dest, "r" + n, {}, "sub" + n);
               }
               if (s.subs.empty()) ++ready_;
             },
         .on_message = [this, &s](chat::stomp::frame& f) { on_message(s, f); },
         .on_receipt = [this, &s](std::string_view id, const chat::stomp::frame&) { on_receipt(s, id); },
         .on_error =
             [this](const chat::stomp::frame& f) {
               count_error("stomp_error: " + std::string(f.get("message").value_or("?")));
             },
         .on_closed =
             [this, &s](std::error_code why) {
               ++closed_;
               if (!shutting_down_) {
                 ++failed_;
                 count_error("session_closed: " + why.message());
               }
               if (s.timer) {
                 ++s.timer_gen;
                 s.timer->cancel();
               }
               if (opt_.model == load_model::sessions && !s.done) session_finished(s);
             }});
    if (opt_.model == load_model::sessions) s.timer = std::make_unique<net::steady_timer>(s.client->executor());
  }
  const auto start = std::chrono::steady_clock::now();
  for (std::size_t i = 0; i < sessions_.size(); ++i) {
    std::this_thread::sleep_until(start + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                                              std::chrono::duration<double>(static_cast<double>(i) / opt_.connect_rate)));
    session& s = *sessions_[i];
    net::post(s.client->executor(), [&s] {
      s.connect_started_ns = now_ns();
      s.client->connect();
    });
  }
  const auto deadline = std::chrono::steady_clock::now() + opt_.setup_timeout;
  while (ready_ < sessions_.size()) {
    if (failed_ > 0) {
      std::string kinds;
      {
        std::lock_guard lock(errors_mutex_);
        for (const auto& [k, v] : errors_) kinds += (kinds.empty() ? "" : "; ") + k + " (" + std::to_string(v) + ")";
      }
      throw std::runtime_error("a session closed during set-up: " + kinds);
    }
    if (std::chrono::steady_clock::now() > deadline)
      throw std::runtime_error("only " + std::to_string(ready_.load()) + " of " + std::to_string(sessions_.size()) +
                               " sessions connected and subscribed in time");
    std::this_thread::sleep_for(10ms);
  }
  sessions_s_ = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (opt_.progress)
    std::fprintf(stderr, "chatload: %zu sessions connected and subscribed in %.1f s\n", sessions_.size(), sessions_s_);
}

void load_run::record_receipt(std::int64_t planned_ns, std::int64_t now) {
  const auto offset = planned_ns - t0_ns_.load(std::memory_order_relaxed);
  const auto us = to_us(now - planned_ns);
  if (offset >= measure_start_ns_) tls_stats->receipt.record(us);
  tls_stats->per_second.record_receipt(offset, us);
}

void load_run::on_receipt(session& s, std::string_view id) {
  const auto now = now_ns();
  if (id.starts_with("sub")) {
    tls_stats->subscribe.record(to_us(now - s.subscribe_started_ns));
    if (--s.pending_subscribe_receipts == 0) ++ready_;
    return;
  }
  if (!id.starts_with("s")) return;
  const auto g = parse_u64(id.substr(1));
  if (!g || *g >= ledger_.max_sends()) return;
  ++receipts_;
  if (opt_.model == load_model::open) {
    record_receipt(t0_ns_.load(std::memory_order_relaxed) + plan_.planned_offset_ns(*g), now);
    return;
  }
  if (!s.waiting || s.inflight_g != *g) return;  // after its receipt timeout: counted, not timed
  record_receipt(s.inflight_planned_ns, now);
  s.waiting = false;
  schedule_next(s, now + std::chrono::nanoseconds(opt_.think).count());
}

void load_run::on_message(session& s, chat::stomp::frame& f) {
  const auto now = now_ns();
  const auto sub = f.get("subscription").value_or("");
  if (sub == "err") {
    auto j = nlohmann::json::parse(f.body, nullptr, false);
    std::string code = j.is_object() && j.contains("code") && j["code"].is_string() ? j["code"].get<std::string>()
                                                                                  : std::string("unknown");
    count_error("soft_error: " + code);
    return;
  }
  bool foreign = false;
  const auto id = find_payload(f.body, nonce_, &foreign);
  if (!id) {
    count_error(foreign ? "foreign_message" : "message_without_payload");
    return;
  }
  if (id->g >= ledger_.max_sends()) {
    count_error("foreign_message");
    return;
  }
  const auto k = sub.starts_with("r") ? parse_u64(sub.substr(1)) : std::nullopt;
  if (!k || *k >= s.subs.size() || s.subs[*k].room != plan_.room_of(id->g)) {
    count_error("message_in_wrong_room");
    return;
  }
  const auto d = ledger_.deliver(id->g, s.subs[*k].slot);
  if (d == delivery::duplicate) return;
  ++delivered_;
  const auto us = to_us(now - (t0_ns_.load(std::memory_order_relaxed) + id->planned_offset_ns));
  if (id->planned_offset_ns >= measure_start_ns_) tls_stats->delivery.record(us);
  tls_stats->per_second.record_delivery(id->planned_offset_ns, us);
}

std::error_code load_run::do_send(session& s, subscription& sub, std::uint64_t g, std::int64_t planned_ns,
                                  std::int64_t now) {
  const std::int64_t offset = planned_ns - t0_ns_.load(std::memory_order_relaxed);
  encode_payload(s.payload, nonce_, g, offset, opt_.message_bytes);
  char seq[24], planned_text[24], receipt[24];
  *std::to_chars(seq, seq + sizeof seq - 1, plan_.seq_of(g)).ptr = '\0';
  *std::to_chars(planned_text, planned_text + sizeof planned_text - 1, planned_ns).ptr = '\0';
  receipt[0] = 's';
  *std::to_chars(receipt + 1, receipt + sizeof receipt - 1, g).ptr = '\0';
  const chat::client::header_view headers[] = {
      {"chatload-seq", seq}, {"chatload-session", s.session_id}, {"chatload-planned-ns", planned_text}};
  std::error_code ec;
  if (opt_.generic) {
    ec = s.client->send(sub.send_dest, s.payload, headers, receipt);
  } else {
    char key[36];
    format_message_key(key, nonce_, g);
    s.body.clear();
    s.body += "{\"roomId\":";
    char room[24];
    s.body.append(room, std::to_chars(room, room + sizeof room, sub.room_id).ptr);
    s.body += ",\"content\":\"";
    s.body += s.payload;
    s.body += "\",\"messageKey\":\"";
    s.body.append(key, 36);
    s.body += "\"}";
    ec = s.client->send("/app/chat.send", s.body, headers, receipt);
  }
  if (ec) {
    ++send_errors_;
    count_error("send: " + ec.message());
    return ec;
  }
  ledger_.mark_issued(g);
  ++sent_;
  tls_stats->per_second.count_sent(offset);
  tls_stats->send_lag.record(to_us(now - planned_ns));
  return {};
}

void load_run::issue_open(session& s, std::uint64_t g, std::int64_t planned_ns) {
  const auto now = now_ns();
  if (now - planned_ns > std::chrono::nanoseconds(opt_.late_limit).count()) {
    ++dropped_;
    tls_stats->send_lag.record(to_us(now - planned_ns));
    return;
  }
  const std::uint32_t room = plan_.room_of(g);
  for (auto& sub : s.subs) {
    if (sub.room == room) {
      (void)do_send(s, sub, g, planned_ns, now);
      return;
    }
  }
}

void load_run::session_finished(session& s) {
  s.done = true;
  ++sessions_done_;
}

void load_run::schedule_next(session& s, std::int64_t at_ns) {
  if (s.done) return;
  if (shutting_down_ || s.subs.empty() || at_ns - t0_ns_.load(std::memory_order_relaxed) >= end_offset_ns_ ||
      s.client->current_state() != stomp_client::state::connected) {
    session_finished(s);
    return;
  }
  const auto gen = ++s.timer_gen;
  s.timer->expires_at(to_time_point(at_ns));
  s.timer->async_wait([this, &s, gen, at_ns](const boost::system::error_code& ec) {
    if (ec || gen != s.timer_gen) return;
    session_send(s, at_ns);
  });
}

void load_run::session_send(session& s, std::int64_t planned_ns) {
  if (s.client->current_state() != stomp_client::state::connected) {
    session_finished(s);
    return;
  }
  auto& sub = s.subs[s.sends % s.subs.size()];
  const std::uint64_t g = plan_.g_of(sub.room, sub.slot, sub.next_seq);
  if (g >= ledger_.max_sends()) {
    count_error("ledger_full (raise --max-messages)");
    session_finished(s);
    return;
  }
  ++sub.next_seq;
  ++s.sends;
  const auto now = now_ns();
  if (do_send(s, sub, g, planned_ns, now)) {
    schedule_next(s, now + std::max<std::int64_t>(std::chrono::nanoseconds(opt_.think).count(), 100'000'000));
    return;
  }
  s.waiting = true;
  s.inflight_g = g;
  s.inflight_planned_ns = planned_ns;
  const auto gen = ++s.timer_gen;
  s.timer->expires_at(to_time_point(now + std::chrono::nanoseconds(opt_.receipt_timeout).count()));
  s.timer->async_wait([this, &s, gen](const boost::system::error_code& ec) {
    if (ec || gen != s.timer_gen || !s.waiting) return;
    s.waiting = false;
    ++receipt_timeouts_;
    count_error("receipt_timeout");
    schedule_next(s, now_ns() + std::chrono::nanoseconds(opt_.think).count());
  });
}

void load_run::progress_tick(double t, bool final_line) {
  const auto now = now_ns();
  const auto cpu = process_cpu_times();
  const double dt = static_cast<double>(now - last_tick_ns_) / 1e9;
  timeline_point p{t, sent_.load(), delivered_.load(), receipts_.load(),
                   dt > 0 ? (cpu.user_s + cpu.system_s - last_cpu_.user_s - last_cpu_.system_s) / dt : 0};
  last_cpu_ = cpu;
  last_tick_ns_ = now;
  if (opt_.progress) {
    std::uint64_t errs = 0;
    {
      std::lock_guard lock(errors_mutex_);
      errs = error_total_;
    }
    char line[256];
    std::snprintf(line, sizeof line,
                  "[%6.1fs] sent %7llu (+%llu/s)  delivered %8llu (+%llu/s)  receipts %7llu  dropped %llu  errors %llu  cpu %.2f",
                  t, static_cast<unsigned long long>(p.sent),
                  static_cast<unsigned long long>(p.sent - last_tick_.sent), static_cast<unsigned long long>(p.delivered),
                  static_cast<unsigned long long>(p.delivered - last_tick_.delivered),
                  static_cast<unsigned long long>(p.receipts), static_cast<unsigned long long>(dropped_.load()),
                  static_cast<unsigned long long>(errs), p.cpu_cores);
    // A terminal gets one line rewritten in place; a pipe or file one line per tick.
    if (tty_) std::fprintf(stderr, "\r%s\x1b[K%s", line, final_line ? "\n" : "");
    else std::fprintf(stderr, "%s\n", line);
  }
  timeline_.push_back(p);
  last_tick_ = p;
}

void load_run::run_open_model() {
  // The scheduler thread posts each SEND to its sender's strand at the planned time; the strand
  // checks lateness, so a stalled session or I/O thread shows up as latency or dropped_sends.
  std::thread scheduler([this] {
    send_scheduler sched(plan_, planned_, steady_sched_clock());
    sched.run(t0_ns_.load(), stop_scheduler_, [this](std::uint64_t g, std::int64_t planned_ns) {
      session& s = *sessions_[plan_.user_of(plan_.room_of(g), plan_.sender_slot_of(g))];
      net::post(s.client->executor(), [this, &s, g, planned_ns] { issue_open(s, g, planned_ns); });
    });
    scheduler_lag_ = sched.lag();
  });
  const std::int64_t t0 = t0_ns_.load();
  for (int tick = 1;; ++tick) {
    const auto at = t0 + std::int64_t{tick} * 1'000'000'000;
    while (now_ns() < at) std::this_thread::sleep_for(std::chrono::nanoseconds(std::min<std::int64_t>(at - now_ns(), 50'000'000)));
    progress_tick(tick);
    // Sessions that died (server down) fail their sends quickly (send_errors), so the loop
    // ends on time and every planned send is accounted for.
    if (sent_ + dropped_ + send_errors_ >= planned_) break;
  }
  scheduler.join();
}

void load_run::run_sessions_model() {
  const std::int64_t t0 = t0_ns_.load();
  const auto n = static_cast<std::int64_t>(sessions_.size());
  const std::int64_t ramp = std::chrono::nanoseconds(opt_.ramp_up).count();
  for (std::int64_t i = 0; i < n; ++i) {
    session& s = *sessions_[static_cast<std::size_t>(i)];
    const std::int64_t first = t0 + (n > 0 ? ramp * i / n : 0);
    net::post(s.client->executor(), [this, &s, first] { schedule_next(s, first); });
  }
  for (int tick = 1;; ++tick) {
    const auto at = t0 + std::int64_t{tick} * 1'000'000'000;
    while (now_ns() < at) std::this_thread::sleep_for(std::chrono::nanoseconds(std::min<std::int64_t>(at - now_ns(), 50'000'000)));
    progress_tick(tick);
    if (sessions_done_ >= sessions_.size() || now_ns() >= t0 + end_offset_ns_) break;
  }
}

void load_run::drain_and_close() {
  const std::int64_t t0 = t0_ns_.load();
  const auto deadline = std::chrono::steady_clock::now() + opt_.drain;
  int tick = static_cast<int>(timeline_.size());
  auto next_tick = t0 + std::int64_t{tick + 1} * 1'000'000'000;
  while (std::chrono::steady_clock::now() < deadline) {
    if (delivered_ >= sent_ * plan_.members && receipts_ + receipt_timeouts_ >= sent_ &&
        (opt_.model == load_model::open || sessions_done_ >= sessions_.size()))
      break;
    std::this_thread::sleep_for(10ms);
    if (now_ns() >= next_tick) {
      progress_tick(++tick);
      next_tick += 1'000'000'000;
    }
  }
  progress_tick(static_cast<double>(now_ns() - t0) / 1e9, true);
  shutting_down_ = true;
  for (auto& sp : sessions_) {
    session* s = sp.get();
    net::post(s->client->executor(), [s] {
      if (s->timer) {
        ++s->timer_gen;
        s->timer->cancel();
      }
      if (s->client->current_state() == stomp_client::state::connected) s->client->disconnect();
      else s->client->close();
    });
  }
  const auto close_deadline = std::chrono::steady_clock::now() + 10s;
  while (closed_ < sessions_.size() && std::chrono::steady_clock::now() < close_deadline)
    std::this_thread::sleep_for(10ms);
}

run_result load_run::execute() {
  if (opt_.members == 0 || opt_.members > opt_.users) throw std::runtime_error("members must be 1..users");
  tty_ = opt_.progress && isatty(STDERR_FILENO);
  setup();
  auto guard = net::make_work_guard(ioc_);
  std::vector<std::thread> io;
  for (unsigned i = 0; i < opt_.io_threads; ++i)
    io.emplace_back([this, i] {
      tls_stats = &workers_[i];
      ioc_.run();
    });
  run_result r;
  auto stop_io = [&] {
    guard.reset();
    ioc_.stop();
    for (auto& t : io) t.join();
  };
  cpu_times cpu0;
  try {
    open_sessions();
    t0_ns_ = now_ns() + 200'000'000;
    last_tick_ns_ = t0_ns_;
    cpu0 = last_cpu_ = process_cpu_times();
    if (opt_.model == load_model::open) run_open_model();
    else run_sessions_model();
    drain_and_close();
  } catch (...) {
    shutting_down_ = true;
    stop_scheduler_ = true;
    for (auto& sp : sessions_) {
      session* s = sp.get();
      if (s->client)
        net::post(s->client->executor(), [s] {
          if (s->timer) s->timer->cancel();
          s->client->close();
        });
    }
    std::this_thread::sleep_for(100ms);
    stop_io();
    throw;
  }
  const auto cpu1 = process_cpu_times();
  r.elapsed_s = static_cast<double>(now_ns() - t0_ns_.load()) / 1e9;
  stop_io();

  r.per_second = interval_series(workers_.empty() ? 1 : workers_[0].per_second.size());
  for (auto& w : workers_) {
    r.per_second.merge(w.per_second);
    r.delivery.merge(w.delivery);
    r.receipt.merge(w.receipt);
    r.connect.merge(w.connect);
    r.subscribe.merge(w.subscribe);
    r.generator.send_lag.merge(w.send_lag);
  }
  const auto t = ledger_.summarize();
  r.setup_source = setup_source_;
  r.setup_s = setup_s_;
  r.sessions_s = sessions_s_;
  r.sessions = sessions_.size();
  r.sent = sent_;
  r.dropped_sends = dropped_;
  r.send_errors = send_errors_;
  r.planned = opt_.model == load_model::open ? planned_ : r.sent + r.send_errors;
  r.receipts = receipts_;
  r.receipt_timeouts = receipt_timeouts_;
  r.expected = t.expected;
  r.delivered = t.delivered;
  r.lost = t.lost;
  r.duplicated = t.duplicated;
  r.reordered = t.reordered;
  r.errors_by_kind = errors_;
  for (auto& [k, v] : errors_) r.errors += v;
  r.timeline = timeline_;

  auto& g = r.generator;
  g.scheduler_lag = scheduler_lag_;
  g.cpu_user_s = cpu1.user_s - cpu0.user_s;
  g.cpu_system_s = cpu1.system_s - cpu0.system_s;
  g.wall_s = r.elapsed_s;
  g.usable_cores = static_cast<double>(std::min(available_cpus(), opt_.io_threads + 1));
  g.planned = r.planned;
  g.dropped_sends = r.dropped_sends;
  r.valid = assess(g, opt_.bounds);
  return r;
}

}  // namespace

run_result run(const run_options& options) {
  auto r = std::make_unique<load_run>(options);
  return r->execute();
}

}  // namespace chatload
