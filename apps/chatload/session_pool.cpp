#include "session_pool.hpp"

#include <boost/asio/post.hpp>

#include <chrono>
#include <cstdio>
#include <stdexcept>
#include <thread>

namespace chatload {

namespace net = boost::asio;
using namespace std::chrono_literals;
using chat::client::stomp_client;

namespace {
thread_local worker_stats* tls_stats = nullptr;

}  // namespace

worker_stats& this_worker_stats() noexcept { return *tls_stats; }

bool error_keeps_session(const chat::stomp::frame& error) noexcept {
  return error.get("session-closes").value_or("") == "false";
}
void bind_worker_stats(worker_stats* w) noexcept { tls_stats = w; }

session_pool::session_pool(net::io_context& ioc, const run_options& options, const plan& p, const setup_result& setup,
                           const stomp_dialect& dialect, run_counters& counters)
    : ioc_(ioc), opt_(options), plan_(p), setup_(setup), dialect_(dialect), counters_(counters) {
  sessions_.reserve(opt_.users);
  for (std::uint32_t u = 0; u < opt_.users; ++u) {
    auto s = std::make_unique<session>();
    s->user = u;
    sessions_.push_back(std::move(s));
  }
  for (std::uint32_t r = 0; r < opt_.rooms; ++r) {
    for (std::uint32_t j = 0; j < opt_.members; ++j) {
      const std::int64_t room_id = setup_.room_ids[r];
      const std::uint32_t user = plan_.user_of(r, j);
      subscription sub{room_id, r, j};
      sub.send_dest = dialect_.send_destination(room_id, user);
      sub.sub_dest = dialect_.subscribe_destination(room_id, user);
      sessions_[user]->subs.push_back(std::move(sub));
    }
  }
}

void session_pool::create_client(session& s, session_events& events) {
  chat::client::stomp_options so;
  so.server = opt_.stomp;
  so.virtual_host = opt_.vhost;
  so.max_outbound_bytes = 1024 * 1024;
  const auto& acc = setup_.accounts[s.user];
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
             const auto now = steady_now_ns();
             this_worker_stats().connect.record(to_us(now - s.connect_started_ns));
             if (auto id = f.get("session")) s.session_id = std::string(*id);
             if (const auto errors = dialect_.error_queue()) s.client->subscribe(*errors, "err");
             s.pending_subscribe_receipts = static_cast<int>(s.subs.size());
             s.subscribe_started_ns = now;
             for (std::size_t k = 0; k < s.subs.size(); ++k) {
               const std::string n = std::to_string(k);
               s.client->subscribe(s.subs[k].sub_dest, "r" + n, {}, "sub" + n);
             }
             if (s.subs.empty()) ++counters_.ready;
           },
       .on_message = [&events, &s](chat::stomp::frame& f) { events.on_message(s, f); },
       .on_receipt =
           [this, &events, &s](std::string_view id, const chat::stomp::frame& f) {
             if (id.starts_with("sub")) {
               this_worker_stats().subscribe.record(to_us(steady_now_ns() - s.subscribe_started_ns));
               if (--s.pending_subscribe_receipts == 0) ++counters_.ready;
               return;
             }
             events.on_receipt(s, id, f);
           },
       .on_error =
           [this, &events, &s](const chat::stomp::frame& f) {
             s.last_error = std::string(f.get("message").value_or("?"));
             s.last_error_keeps_session = error_keeps_session(f);
             counters_.errors.count("stomp_error: " + s.last_error);
             events.on_error(s, f);
           },
       .on_closed =
           [this, &events, &s](std::error_code why) {
             ++counters_.closed;
             if (!shutting_down_) {
               ++counters_.failed;
               counters_.errors.count("session_closed: " + why.message());
               if (s.last_error.empty())
                 counters_.disconnected.count("connection: " + why.message());
               else if (s.last_error_keeps_session)
                 counters_.disconnected.count(s.last_error + " (the ERROR said the session stays open)");
               else
                 counters_.disconnected.count(s.last_error);
             }
             if (s.timer) {
               ++s.timer_gen;
               s.timer->cancel();
             }
             events.on_closed(s);
           }});
}

void session_pool::open(session_events& events) {
  for (auto& sp : sessions_) create_client(*sp, events);
  const auto start = std::chrono::steady_clock::now();
  for (std::size_t i = 0; i < sessions_.size(); ++i) {
    std::this_thread::sleep_until(start +
                                  std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                                      std::chrono::duration<double>(static_cast<double>(i) / opt_.connect_rate)));
    session& s = *sessions_[i];
    net::post(s.client->executor(), [&s] {
      s.connect_started_ns = steady_now_ns();
      s.client->connect();
    });
  }
  const auto deadline = std::chrono::steady_clock::now() + opt_.setup_timeout;
  while (counters_.ready < sessions_.size()) {
    if (counters_.failed > 0) throw std::runtime_error("a session closed during set-up: " + counters_.errors.summary());
    if (std::chrono::steady_clock::now() > deadline)
      throw std::runtime_error("only " + std::to_string(counters_.ready.load()) + " of " +
                               std::to_string(sessions_.size()) + " sessions connected and subscribed in time");
    std::this_thread::sleep_for(10ms);
  }
  open_s_ = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (opt_.progress)
    std::fprintf(stderr, "chatload: %zu sessions connected and subscribed in %.1f s\n", sessions_.size(), open_s_);
}

void session_pool::close_all() {
  shutting_down_ = true;
  for (auto& sp : sessions_) {
    session* s = sp.get();
    net::post(s->client->executor(), [s] {
      if (s->timer) {
        ++s->timer_gen;
        s->timer->cancel();
      }
      if (s->client->current_state() == stomp_client::state::connected)
        s->client->disconnect();
      else
        s->client->close();
    });
  }
  const auto close_deadline = std::chrono::steady_clock::now() + 10s;
  while (counters_.closed < sessions_.size() && std::chrono::steady_clock::now() < close_deadline)
    std::this_thread::sleep_for(10ms);
}

void session_pool::abort_all() {
  shutting_down_ = true;
  for (auto& sp : sessions_) {
    session* s = sp.get();
    if (s->client)
      net::post(s->client->executor(), [s] {
        if (s->timer) s->timer->cancel();
        s->client->close();
      });
  }
}

}  // namespace chatload
