#include "runner.hpp"

#include "accounting.hpp"

#include <chat/client/rest_client.hpp>
#include <chat/client/stomp_client.hpp>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <atomic>
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

namespace {

std::int64_t now_ns() noexcept {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

std::uint64_t to_us(std::int64_t ns) noexcept { return ns <= 0 ? 0 : static_cast<std::uint64_t>(ns / 1000); }

// Latency histograms of one I/O thread; merged after the threads have stopped.
struct worker_stats {
  histogram delivery;
  histogram receipt;
  histogram connect;
  std::vector<second_stats> per_second;
};
thread_local worker_stats* tls_stats = nullptr;

struct user_account {
  std::int64_t id = 0;
  std::string token;
};

struct subscription {
  std::int64_t room_id = 0;
  std::uint32_t room = 0;  // index in the plan
  std::uint32_t slot = 0;  // this user's member slot in the room
};

struct session {
  std::uint32_t user = 0;
  std::shared_ptr<stomp_client> client;
  std::vector<subscription> subs;
  std::string session_id;  // CONNECTED "session" header
  std::int64_t connect_started_ns = 0;
  int pending_subscribe_receipts = 0;
};

class load_run {
 public:
  explicit load_run(const run_options& o)
      : opt_(o),
        plan_{o.users, o.rooms, o.members, o.rate},
        planned_(plan_.sends_in(std::chrono::duration<double>(o.warmup + o.duration).count())),
        warmup_ns_(std::chrono::nanoseconds(o.warmup).count()),
        ledger_(plan_, planned_),
        issued_(planned_, 0),
        workers_(o.io_threads) {
    const std::size_t seconds = planned_ ? static_cast<std::size_t>(plan_.planned_offset_ns(planned_ - 1) / 1'000'000'000) + 1 : 0;
    for (auto& w : workers_) w.per_second.resize(seconds);
    std::random_device rd;
    nonce_ = ((std::uint64_t{rd()} << 32) | rd()) & ((std::uint64_t{1} << 60) - 1);
    content_.assign(o.message_bytes, 'x');
  }

  run_result execute();

 private:
  void setup_rest();
  void open_sessions();
  void schedule_sends();
  void drain_and_close();
  void issue(session& s, std::uint64_t g);
  void on_message(session& s, chat::stomp::frame& f);
  void on_receipt(session& s, std::string_view id);
  void count_error(std::string kind);
  void progress_tick(double t);

  run_options opt_;
  plan plan_;
  std::uint64_t planned_;
  std::int64_t warmup_ns_;
  ledger ledger_;
  std::vector<std::uint8_t> issued_;
  std::uint64_t nonce_ = 0;
  std::string content_;

  std::vector<user_account> accounts_;
  std::vector<std::int64_t> room_ids_;
  std::vector<std::unique_ptr<session>> sessions_;

  net::io_context ioc_{static_cast<int>(opt_.io_threads)};
  std::vector<worker_stats> workers_;
  std::atomic<std::int64_t> t0_ns_{0};
  std::atomic<bool> shutting_down_{false};

  std::atomic<std::uint64_t> ready_{0}, closed_{0}, failed_{0};
  std::atomic<std::uint64_t> sent_{0}, dropped_{0}, send_errors_{0}, receipts_{0}, delivered_{0};
  std::mutex errors_mutex_;
  std::map<std::string, std::uint64_t> errors_;
  std::vector<timeline_point> timeline_;
  timeline_point last_tick_;
};

void load_run::count_error(std::string kind) {
  std::lock_guard lock(errors_mutex_);
  ++errors_[std::move(kind)];
}

void load_run::setup_rest() {
  accounts_.resize(opt_.users);
  room_ids_.resize(opt_.rooms);
  std::atomic<std::uint32_t> next{0};
  std::mutex fail_mutex;
  std::string failure;
  const std::string run_tag = message_key(nonce_, 0).substr(0, 8);
  auto pool = [&](std::uint32_t total, auto&& job) {
    next = 0;
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
  };
  auto describe = [](const chat::client::response& r) {
    if (r.error) return r.error.message();
    return "HTTP " + std::to_string(r.status) + " " + r.api.code + ": " + r.api.message;
  };
  pool(opt_.users, [&](chat::client::rest_client& api, std::uint32_t i) -> std::string {
    const std::string name = "load-" + run_tag + "-" + std::to_string(i);
    auto r = api.signup(name + "@example.com", opt_.password, name);
    if (!r) return "signup of " + name + " failed: " + describe(r.http);
    accounts_[i] = {r.value->user_id, r.value->token};
    return {};
  });
  pool(opt_.rooms, [&](chat::client::rest_client& api, std::uint32_t r) -> std::string {
    std::vector<std::int64_t> ids;
    for (std::uint32_t j = 1; j < opt_.members; ++j) ids.push_back(accounts_[plan_.user_of(r, j)].id);
    api.set_token(accounts_[plan_.user_of(r, 0)].token);
    auto res = api.create_group("load-" + run_tag + "-room-" + std::to_string(r), ids);
    if (!res) return "creating room " + std::to_string(r) + " failed: " + describe(res.http);
    room_ids_[r] = res.value->id;
    return {};
  });
}

void load_run::open_sessions() {
  sessions_.reserve(opt_.users);
  for (std::uint32_t u = 0; u < opt_.users; ++u) {
    auto s = std::make_unique<session>();
    s->user = u;
    sessions_.push_back(std::move(s));
  }
  for (std::uint32_t r = 0; r < opt_.rooms; ++r)
    for (std::uint32_t j = 0; j < opt_.members; ++j)
      sessions_[plan_.user_of(r, j)]->subs.push_back({room_ids_[r], r, j});

  for (auto& sp : sessions_) {
    session& s = *sp;
    chat::client::stomp_options so;
    so.server = opt_.stomp;
    so.token = accounts_[s.user].token;
    so.max_outbound_bytes = 1024 * 1024;
    s.client = stomp_client::create(
        ioc_.get_executor(), so,
        {.on_connected =
             [this, &s](const chat::stomp::frame& f) {
               tls_stats->connect.record(to_us(now_ns() - s.connect_started_ns));
               if (auto id = f.get("session")) s.session_id = std::string(*id);
               s.client->subscribe("/user/queue/errors", "err");
               s.pending_subscribe_receipts = static_cast<int>(s.subs.size());
               for (const auto& sub : s.subs) {
                 const std::string n = std::to_string(sub.room);
                 s.client->subscribe("/topic/room." + std::to_string(sub.room_id), "r" + n, {}, "sub" + n);
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
             [this](std::error_code why) {
               ++closed_;
               if (!shutting_down_) {
                 ++failed_;
                 count_error("session_closed: " + why.message());
               }
             }});
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
    if (failed_ > 0) throw std::runtime_error("a session closed during set-up (see errors)");
    if (std::chrono::steady_clock::now() > deadline)
      throw std::runtime_error("only " + std::to_string(ready_.load()) + " of " + std::to_string(sessions_.size()) +
                               " sessions connected and subscribed in time");
    std::this_thread::sleep_for(10ms);
  }
}

void load_run::on_receipt(session& s, std::string_view id) {
  if (id.starts_with("sub")) {
    if (--s.pending_subscribe_receipts == 0) ++ready_;
    return;
  }
  if (!id.starts_with("s")) return;
  std::uint64_t g = 0;
  for (char c : id.substr(1)) g = g * 10 + static_cast<std::uint64_t>(c - '0');
  if (g >= planned_) return;
  ++receipts_;
  const auto offset = plan_.planned_offset_ns(g);
  if (offset >= warmup_ns_)
    tls_stats->receipt.record(to_us(now_ns() - (t0_ns_.load(std::memory_order_relaxed) + offset)));
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
  static constexpr std::string_view key_field = "\"messageKey\":\"";
  const auto pos = f.body.find(key_field);
  if (pos == std::string::npos || pos + key_field.size() + 36 > f.body.size()) {
    count_error("message_without_key");
    return;
  }
  const auto g = parse_message_key(std::string_view(f.body).substr(pos + key_field.size(), 36), nonce_);
  if (!g || *g >= planned_) {
    count_error("foreign_message");
    return;
  }
  const std::uint32_t room = plan_.room_of(*g);
  const subscription* mine = nullptr;
  for (const auto& x : s.subs)
    if (x.room == room) mine = &x;
  if (!mine || sub != "r" + std::to_string(room)) {
    count_error("message_in_wrong_room");
    return;
  }
  const auto d = ledger_.deliver(*g, mine->slot);
  if (d == delivery::duplicate) return;
  ++delivered_;
  const auto offset = plan_.planned_offset_ns(*g);
  const auto us = to_us(now - (t0_ns_.load(std::memory_order_relaxed) + offset));
  if (offset >= warmup_ns_) tls_stats->delivery.record(us);
  auto& sec = tls_stats->per_second[static_cast<std::size_t>(offset / 1'000'000'000)];
  ++sec.delivered;
  if (us > 50'000) ++sec.over_50ms;
  sec.max_us = std::max(sec.max_us, us);
}

void load_run::issue(session& s, std::uint64_t g) {
  const auto planned = t0_ns_.load(std::memory_order_relaxed) + plan_.planned_offset_ns(g);
  const auto now = now_ns();
  if (now - planned > std::chrono::nanoseconds(opt_.late_limit).count()) {
    ++dropped_;
    return;
  }
  const std::uint32_t room = plan_.room_of(g);
  std::string body = "{\"roomId\":" + std::to_string(room_ids_[room]) + ",\"content\":\"" + content_ +
                     "\",\"messageKey\":\"" + message_key(nonce_, g) + "\"}";
  const std::string seq = std::to_string(plan_.seq_of(g));
  const std::string planned_text = std::to_string(planned);
  const std::string receipt = "s" + std::to_string(g);
  const chat::client::header_view headers[] = {
      {"chatload-seq", seq}, {"chatload-session", s.session_id}, {"chatload-planned-ns", planned_text}};
  if (auto ec = s.client->send("/app/chat.send", body, headers, receipt)) {
    ++send_errors_;
    count_error("send: " + ec.message());
    return;
  }
  issued_[g] = 1;
  ++sent_;
}

void load_run::progress_tick(double t) {
  timeline_point p{t, sent_.load(), delivered_.load(), receipts_.load()};
  if (opt_.progress) {
    std::uint64_t errs = 0;
    {
      std::lock_guard lock(errors_mutex_);
      for (auto& [k, v] : errors_) errs += v;
    }
    std::fprintf(stderr, "[%6.1fs] sent %7llu (+%llu/s)  delivered %8llu (+%llu/s)  receipts %7llu  dropped %llu  errors %llu\n",
                 t, static_cast<unsigned long long>(p.sent), static_cast<unsigned long long>(p.sent - last_tick_.sent),
                 static_cast<unsigned long long>(p.delivered),
                 static_cast<unsigned long long>(p.delivered - last_tick_.delivered),
                 static_cast<unsigned long long>(p.receipts), static_cast<unsigned long long>(dropped_.load()),
                 static_cast<unsigned long long>(errs));
  }
  timeline_.push_back(p);
  last_tick_ = p;
}

void load_run::schedule_sends() {
  // The scheduler thread posts each SEND to its sender's strand at the planned time; the strand
  // checks lateness, so a stalled session or I/O thread shows up as latency or dropped_sends.
  t0_ns_ = now_ns() + 200'000'000;
  std::thread scheduler([this] {
    const std::int64_t t0 = t0_ns_.load();
    for (std::uint64_t g = 0; g < planned_; ++g) {
      const auto due = t0 + plan_.planned_offset_ns(g);
      const auto wait = due - now_ns();
      if (wait > 0) std::this_thread::sleep_for(std::chrono::nanoseconds(wait));
      session& s = *sessions_[plan_.user_of(plan_.room_of(g), plan_.sender_slot_of(g))];
      net::post(s.client->executor(), [this, &s, g] { issue(s, g); });
    }
  });
  const std::int64_t t0 = t0_ns_.load();
  for (int tick = 1;; ++tick) {
    const auto at = t0 + std::int64_t{tick} * 1'000'000'000;
    while (now_ns() < at) std::this_thread::sleep_for(std::chrono::nanoseconds(std::min<std::int64_t>(at - now_ns(), 50'000'000)));
    progress_tick(tick);
    if (sent_ + dropped_ + send_errors_ >= planned_) break;
  }
  scheduler.join();
}

void load_run::drain_and_close() {
  const std::int64_t t0 = t0_ns_.load();
  const auto deadline = std::chrono::steady_clock::now() + opt_.drain;
  int tick = static_cast<int>(timeline_.size());
  auto next_tick = t0 + std::int64_t{tick + 1} * 1'000'000'000;
  while (std::chrono::steady_clock::now() < deadline) {
    if (delivered_ >= sent_ * plan_.members && receipts_ >= sent_) break;
    std::this_thread::sleep_for(10ms);
    if (now_ns() >= next_tick) {
      progress_tick(++tick);
      next_tick += 1'000'000'000;
    }
  }
  progress_tick(static_cast<double>(now_ns() - t0) / 1e9);
  shutting_down_ = true;
  for (auto& s : sessions_) {
    auto c = s->client;
    net::post(c->executor(), [c] {
      if (c->current_state() == stomp_client::state::connected) c->disconnect();
      else c->close();
    });
  }
  const auto close_deadline = std::chrono::steady_clock::now() + 10s;
  while (closed_ < sessions_.size() && std::chrono::steady_clock::now() < close_deadline)
    std::this_thread::sleep_for(10ms);
}

run_result load_run::execute() {
  if (opt_.members == 0 || opt_.members > opt_.users) throw std::runtime_error("members must be 1..users");
  setup_rest();
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
  try {
    open_sessions();
    schedule_sends();
    drain_and_close();
  } catch (...) {
    shutting_down_ = true;
    for (auto& s : sessions_) {
      auto c = s->client;
      if (c) net::post(c->executor(), [c] { c->close(); });
    }
    std::this_thread::sleep_for(100ms);
    stop_io();
    throw;
  }
  r.elapsed_s = static_cast<double>(now_ns() - t0_ns_.load()) / 1e9;
  stop_io();

  r.per_second.resize(workers_.empty() ? 0 : workers_[0].per_second.size());
  for (auto& w : workers_) {
    for (std::size_t i = 0; i < w.per_second.size(); ++i) {
      r.per_second[i].delivered += w.per_second[i].delivered;
      r.per_second[i].over_50ms += w.per_second[i].over_50ms;
      r.per_second[i].max_us = std::max(r.per_second[i].max_us, w.per_second[i].max_us);
    }
    r.delivery.merge(w.delivery);
    r.receipt.merge(w.receipt);
    r.connect.merge(w.connect);
  }
  const auto t = ledger_.summarize(issued_);
  r.sessions = sessions_.size();
  r.planned = planned_;
  r.sent = sent_;
  r.dropped_sends = dropped_;
  r.send_errors = send_errors_;
  r.receipts = receipts_;
  r.expected = t.expected;
  r.delivered = t.delivered;
  r.lost = t.lost;
  r.duplicated = t.duplicated;
  r.reordered = t.reordered;
  r.errors_by_kind = errors_;
  for (auto& [k, v] : errors_) r.errors += v;
  r.timeline = timeline_;
  return r;
}

}  // namespace

run_result run(const run_options& options) {
  auto r = std::make_unique<load_run>(options);
  return r->execute();
}

}  // namespace chatload
