#include "sessions_model.hpp"

#include <boost/asio/post.hpp>

#include <algorithm>
#include <chrono>

namespace chatload {

namespace net = boost::asio;
using chat::client::stomp_client;

namespace {
std::chrono::steady_clock::time_point to_time_point(std::int64_t ns) {
  return std::chrono::steady_clock::time_point(
      std::chrono::duration_cast<std::chrono::steady_clock::duration>(std::chrono::nanoseconds(ns)));
}
}  // namespace

void sessions_model::run(std::int64_t t0, const tick_fn& tick) {
  const auto n = static_cast<std::int64_t>(pool_.size());
  const std::int64_t ramp = std::chrono::nanoseconds(opt_.ramp_up).count();
  for (std::int64_t i = 0; i < n; ++i) {
    session& s = pool_.at(static_cast<std::size_t>(i));
    const std::int64_t first = t0 + (n > 0 ? ramp * i / n : 0);
    net::post(s.client->executor(), [this, &s, first] {
      if (!s.timer) s.timer = std::make_unique<net::steady_timer>(s.client->executor());
      schedule_next(s, first);
    });
  }
  tick_until(steady_sched_clock(), t0, tick,
             [&] { return sending_finished() || steady_now_ns() >= t0 + traffic_.end_offset_ns(); });
}

std::optional<std::int64_t> sessions_model::take_receipt(session& s, std::uint64_t g, std::int64_t now) {
  if (!s.waiting || s.inflight_g != g) return std::nullopt;  // after its receipt timeout: counted, not timed
  s.waiting = false;
  const std::int64_t planned = s.inflight_planned_ns;
  schedule_next(s, now + std::chrono::nanoseconds(opt_.think).count());
  return planned;
}

void sessions_model::on_closed(session& s) {
  if (!s.done) finish(s);
}

void sessions_model::finish(session& s) {
  s.done = true;
  ++counters_.sessions_done;
}

void sessions_model::schedule_next(session& s, std::int64_t at_ns) {
  if (s.done) return;
  if (pool_.shutting_down() || s.subs.empty() || at_ns - traffic_.t0_ns() >= traffic_.end_offset_ns() ||
      s.client->current_state() != stomp_client::state::connected) {
    finish(s);
    return;
  }
  const auto gen = ++s.timer_gen;
  s.timer->expires_at(to_time_point(at_ns));
  s.timer->async_wait([this, &s, gen, at_ns](const boost::system::error_code& ec) {
    if (ec || gen != s.timer_gen) return;
    send_next(s, at_ns);
  });
}

void sessions_model::send_next(session& s, std::int64_t planned_ns) {
  if (s.client->current_state() != stomp_client::state::connected) {
    finish(s);
    return;
  }
  auto& sub = s.subs[s.sends % s.subs.size()];
  const std::uint64_t g = plan_.g_of(sub.room, sub.slot, sub.next_seq);
  if (g >= traffic_.deliveries().max_sends()) {
    counters_.errors.count("ledger_full (raise --max-messages)");
    finish(s);
    return;
  }
  ++sub.next_seq;
  ++s.sends;
  const auto now = steady_now_ns();
  if (traffic_.send(s, sub, g, planned_ns, now)) {
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
    ++counters_.receipt_timeouts;
    counters_.errors.count("receipt_timeout");
    schedule_next(s, steady_now_ns() + std::chrono::nanoseconds(opt_.think).count());
  });
}

}  // namespace chatload
