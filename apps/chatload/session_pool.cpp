#include "session_pool.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>

#include <charconv>
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
    s->strand = net::make_strand(ioc_);
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
  const auto gen = ++s.client_gen;
  s.client = stomp_client::create(
      s.strand, so,
      {.on_connected =
           [this, &s, gen](const chat::stomp::frame& f) {
             if (gen != s.client_gen) return;
             const auto now = steady_now_ns();
             if (!s.reconnecting) this_worker_stats().connect.record(to_us(now - s.connect_started_ns));
             if (auto id = f.get("session")) s.session_id = std::string(*id);
             if (const auto errors = dialect_.error_queue()) s.client->subscribe(*errors, "err");
             s.pending_subscribe_receipts = static_cast<int>(s.subs.size());
             s.subscribe_started_ns = now;
             subscribe_all(s);
             if (s.subs.empty()) {
               if (s.reconnecting) {
                 s.reconnecting = false;
                 ++counters_.churn.reconnects;
               } else {
                 ++counters_.ready;
               }
             }
           },
       .on_message =
           [&events, &s, gen](chat::stomp::frame& f) {
             if (gen == s.client_gen) events.on_message(s, f);
           },
       .on_receipt =
           [this, &events, &s, gen](std::string_view id, const chat::stomp::frame& f) {
             if (gen != s.client_gen) return;
             if (id.starts_with("sub")) return on_subscribed(s, f);
             events.on_receipt(s, id, f);
           },
       .on_error =
           [this, &events, &s, gen](const chat::stomp::frame& f) {
             if (gen != s.client_gen) return;
             s.last_error = std::string(f.get("message").value_or("?"));
             s.last_error_keeps_session = error_keeps_session(f);
             counters_.errors.count("stomp_error: " + s.last_error);
             events.on_error(s, f);
           },
       .on_closed =
           [this, &events, &s, gen](std::error_code why) {
             if (gen != s.client_gen) return;
             if (s.dropping) {
               // --churn: the drop we asked for. Reconnect from the strand (not inside the old
               // client's callback, which replacing it would destroy).
               s.dropping = false;
               net::post(s.strand, [this, &s, &events] {
                 if (shutting_down_) {
                   s.reconnecting = false;
                   ++counters_.closed;
                   return;
                 }
                 create_client(s, events);
                 s.connect_started_ns = steady_now_ns();
                 s.client->connect();
               });
               return;
             }
             ++counters_.closed;
             if (s.reconnecting) {
               s.reconnecting = false;
               ++counters_.churn.failed;
             }
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

void session_pool::subscribe_all(session& s) {
  for (std::size_t k = 0; k < s.subs.size(); ++k) {
    auto& sub = s.subs[k];
    const std::string n = std::to_string(k);
    if (s.reconnecting && sub.cursor.known()) {
      // Resume after the last event this subscription got (docs/stomp.md "Recovery").
      const std::string since = std::to_string(sub.cursor.since_id());
      const chat::client::header_view since_id{"since-id", since};
      sub.recovering = true;
      s.client->subscribe(sub.sub_dest, "r" + n, std::span(&since_id, 1), "sub" + n);
    } else {
      s.client->subscribe(sub.sub_dest, "r" + n, {}, "sub" + n);
    }
  }
}

void session_pool::on_subscribed(session& s, const chat::stomp::frame& receipt) {
  const auto now = steady_now_ns();
  if (!s.reconnecting) {
    this_worker_stats().subscribe.record(to_us(now - s.subscribe_started_ns));
    if (--s.pending_subscribe_receipts == 0) ++counters_.ready;
    return;
  }
  const auto k = receipt.get("receipt-id").value_or("sub").substr(3);  // "sub<k>"
  std::size_t index = 0;
  if (std::from_chars(k.data(), k.data() + k.size(), index).ec == std::errc{} && index < s.subs.size())
    s.subs[index].recovering = false;
  const auto recovered = receipt.get("recovered");
  if (recovered == "true") {
    ++counters_.churn.recovered;
  } else {
    ++counters_.churn.not_recovered;
    if (!recovered) ++counters_.churn.no_header;
  }
  if (--s.pending_subscribe_receipts > 0) return;
  s.reconnecting = false;
  ++counters_.churn.reconnects;
  this_worker_stats().reconnect.record(to_us(now - s.reconnect_started_ns));
}

bool session_pool::drop_and_reconnect(session& s) {
  if (shutting_down_ || s.reconnecting || !s.client || s.client->current_state() != stomp_client::state::connected)
    return false;
  for (const auto& sub : s.subs) {
    if (!sub.cursor.known()) return false;  // nothing to resume from: the gap would be a loss
  }
  s.dropping = true;
  s.reconnecting = true;
  s.reconnect_started_ns = steady_now_ns();
  if (s.issued > s.answered) counters_.churn.orphaned += s.issued - s.answered;  // answers gone with the connection
  s.issued = s.answered = 0;
  ++counters_.churn.drops;
  s.client->close();
  return true;
}

void session_pool::open(session_events& events) {
  for (auto& sp : sessions_) create_client(*sp, events);
  const auto start = std::chrono::steady_clock::now();
  for (std::size_t i = 0; i < sessions_.size(); ++i) {
    std::this_thread::sleep_until(start +
                                  std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                                      std::chrono::duration<double>(static_cast<double>(i) / opt_.connect_rate)));
    session& s = *sessions_[i];
    net::post(s.strand, [&s] {
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
    net::post(s->strand, [s] {
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
    net::post(s->strand, [s] {
      if (s->timer) s->timer->cancel();
      if (s->client) s->client->close();
    });
  }
}

}  // namespace chatload
