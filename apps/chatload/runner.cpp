// The orchestration of one run: set-up, sessions, the load model's sending phase, the drain,
// and the results. The parts are setup.hpp, session_pool.hpp, traffic.hpp, load_driver.hpp
// (open_model.hpp, sessions_model.hpp) and progress.hpp.
#include "runner.hpp"

#include "accounting.hpp"
#include "destinations.hpp"
#include "load_driver.hpp"
#include "login_flood.hpp"
#include "open_model.hpp"
#include "progress.hpp"
#include "run_counters.hpp"
#include "scheduler.hpp"
#include "session_pool.hpp"
#include "sessions_model.hpp"
#include "setup.hpp"
#include "traffic.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include <unistd.h>

#include <algorithm>
#include <exception>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <stdexcept>
#include <thread>

namespace chatload {

std::vector<rate_phase> measured_phases(const run_options& o) {
  if (!o.phases.empty()) return o.phases;
  return {{o.rate, std::chrono::duration<double>(o.duration).count()}};
}

namespace {

namespace net = boost::asio;
using namespace std::chrono_literals;

// The send plan: the ramp-up grows to the first phase's rate, the warm-up keeps it, then the
// phases follow one another.
plan make_plan(const run_options& o) {
  plan p{o.users, o.rooms, o.members, o.phases.empty() ? o.rate : o.phases.front().rate,
         std::chrono::duration<double>(o.ramp_up).count()};
  if (!o.phases.empty()) {
    if (o.warmup.count() > 0) p.segments.push_back({p.rate, std::chrono::duration<double>(o.warmup).count()});
    p.segments.insert(p.segments.end(), o.phases.begin(), o.phases.end());
  }
  return p;
}

// The I/O threads, one worker_stats each. Leaving scope stops and joins them. A handler that
// throws does not end the process: the first such exception is kept for failure() and the
// thread runs on.
class io_threads {
 public:
  io_threads(net::io_context& ioc, std::vector<worker_stats>& workers) : ioc_(ioc), guard_(net::make_work_guard(ioc)) {
    for (auto& w : workers)
      threads_.emplace_back([this, &w] {
        bind_worker_stats(&w);
        for (;;) {
          try {
            ioc_.run();
            return;
          } catch (...) {
            std::lock_guard lock(failure_mutex_);
            if (!failure_) failure_ = std::current_exception();
          }
        }
      });
  }
  io_threads(const io_threads&) = delete;
  io_threads& operator=(const io_threads&) = delete;
  ~io_threads() { stop(); }

  void stop() {
    guard_.reset();
    ioc_.stop();
    for (auto& t : threads_)
      if (t.joinable()) t.join();
  }
  // After stop(): the first exception a handler threw, if any.
  std::exception_ptr failure() const {
    std::lock_guard lock(failure_mutex_);
    return failure_;
  }

 private:
  net::io_context& ioc_;
  net::executor_work_guard<net::io_context::executor_type> guard_;
  mutable std::mutex failure_mutex_;
  std::exception_ptr failure_;
  std::vector<std::thread> threads_;
};

class load_run final : public session_events {
 public:
  explicit load_run(const run_options& o)
      : opt_(o),
        plan_(make_plan(o)),
        planned_(
            o.model == load_model::open
                ? plan_.sends_in(
                      static_cast<double>(std::chrono::nanoseconds(o.ramp_up + o.warmup + o.duration).count()) / 1e9)
                : 0),
        nonce_(make_nonce()),
        dialect_(o.generic ? stomp_dialect::generic(o.send_dest, o.sub_dest) : stomp_dialect::chatd()),
        traffic_(opt_, plan_, nonce_,
                 o.model == load_model::open ? std::max<std::uint64_t>(planned_, 1) : o.max_messages, dialect_,
                 counters_),
        workers_(o.io_threads),
        progress_(o.progress, o.progress && isatty(STDERR_FILENO), counters_) {
    const auto seconds = static_cast<std::size_t>((traffic_.end_offset_ns() + 999'999'999) / 1'000'000'000);
    for (auto& w : workers_) {
      w.per_second = interval_series(seconds);
      w.phases.resize(traffic_.phase_count());
    }
  }

  run_result execute();

  void on_message(session& s, chat::stomp::frame& f) override {
    if (const auto r = traffic_.on_message(s, f)) on_refusal(s, *r);
  }
  void on_receipt(session& s, std::string_view id, const chat::stomp::frame& receipt) override {
    const auto now = steady_now_ns();
    const auto g = traffic_.count_receipt(id);
    if (!g) return;
    ++s.answered;
    traffic_.remember_receipted(s, *g, receipt);
    traffic_.answer(*g, send_outcome::receipted, model_->take_receipt(s, *g, now), now, {});
  }
  void on_error(session& s, const chat::stomp::frame& f) override {
    if (const auto r = refusal_of_error(f, traffic_.deliveries().max_sends())) on_refusal(s, *r);
  }
  void on_closed(session& s) override { model_->on_closed(s); }

 private:
  static std::uint64_t make_nonce() {
    std::random_device rd;
    return ((std::uint64_t{rd()} << 32) | rd()) & ((std::uint64_t{1} << 60) - 1);
  }
  // A refusal is the answer to its send as a RECEIPT would be: the model stops waiting for one.
  void on_refusal(session& s, const refusal& r) {
    ++s.answered;
    const auto now = steady_now_ns();
    traffic_.answer(r.g, r.outcome, model_->take_receipt(s, r.g, now), now, r.text);
  }
  std::unique_ptr<load_driver> make_model();
  void churn(std::int64_t t0, const std::atomic<bool>& stop);
  bool drained() const;
  void drain_and_close();
  // Every --server-metrics URL's stage histograms (in order), or nullopt (none given, or one
  // unreadable: server_stages_error_ says which).
  std::optional<std::vector<stage_histograms>> scrape_servers();
  std::vector<stage_summary> server_stages_;
  std::string server_stages_error_;
  run_result results(const cpu_times& cpu0, const cpu_times& cpu1, double elapsed_s);

  run_options opt_;
  plan plan_;
  std::uint64_t planned_;  // open model: sends in the schedule
  std::uint64_t nonce_;
  stomp_dialect dialect_;
  run_counters counters_;
  traffic traffic_;
  setup_result setup_;
  // Declared before the sessions so that they (sockets, timers) go before it.
  net::io_context ioc_{static_cast<int>(opt_.io_threads)};
  std::optional<session_pool> pool_;
  std::unique_ptr<load_driver> model_;
  std::vector<worker_stats> workers_;
  progress_reporter progress_;
  std::optional<login_flood_result> flood_;
};

std::unique_ptr<load_driver> load_run::make_model() {
  switch (opt_.model) {
    case load_model::open:
      return std::make_unique<open_model>(
          plan_, planned_, steady_sched_clock(), counters_, [this](std::uint64_t g, std::int64_t planned_ns) {
            session& s = pool_->sender_of(g);
            net::post(s.strand, [this, &s, g, planned_ns] { traffic_.send_planned(s, g, planned_ns); });
          });
    case load_model::sessions: return std::make_unique<sessions_model>(opt_, plan_, traffic_, *pool_, counters_);
  }
  throw std::logic_error("unknown load model");
}

// --churn: from the first planned send until the sending phase ends, drop i is due at
// t0 + i / rate on session victim(i) (churn.hpp). The drop runs on that session's strand; a
// session that cannot drop now (reconnecting, not connected, a room without an event yet) is
// skipped, not retried.
void load_run::churn(std::int64_t t0, const std::atomic<bool>& stop) {
  const churn_schedule schedule{opt_.churn};
  const auto sessions = static_cast<std::uint32_t>(pool_->size());
  for (std::uint64_t i = 0; !stop; ++i) {
    const auto due = t0 + schedule.due_offset_ns(i);
    for (auto now = steady_now_ns(); !stop && now < due; now = steady_now_ns())
      std::this_thread::sleep_for(std::chrono::nanoseconds(std::min<std::int64_t>(due - now, 10'000'000)));
    if (stop) return;
    session& s = pool_->at(churn_schedule::victim(i, sessions));
    net::post(s.strand, [this, &s] {
      if (!pool_->drop_and_reconnect(s)) ++counters_.churn.skipped;
    });
  }
}

// Everything sent is delivered to every member and answered, or can no longer be: a SEND
// whose connection was dropped (--churn) gets no answer, and may or may not have been stored.
std::optional<std::vector<stage_histograms>> load_run::scrape_servers() {
  if (opt_.server_metrics.empty() || !server_stages_error_.empty()) return std::nullopt;
  std::vector<stage_histograms> out;
  for (const auto& url : opt_.server_metrics) {
    std::string why;
    auto one = scrape_stages(url, why);
    if (!one) {
      server_stages_error_ = why;
      return std::nullopt;
    }
    out.push_back(std::move(*one));
  }
  return out;
}

bool load_run::drained() const {
  const auto& c = counters_.churn;
  const std::uint64_t orphaned = c.orphaned;
  const std::uint64_t sent = counters_.sent;
  const std::uint64_t settled = sent > orphaned ? sent - orphaned : 0;
  return counters_.delivered >= settled * plan_.members &&
         counters_.receipts + counters_.refused + counters_.receipt_timeouts + orphaned >= sent &&
         c.reconnects + c.failed >= c.drops && model_->sending_finished();
}

void load_run::drain_and_close() {
  const std::int64_t t0 = traffic_.t0_ns();
  const auto deadline = std::chrono::steady_clock::now() + opt_.drain;
  int tick = static_cast<int>(progress_.timeline().size());
  auto next_tick = t0 + std::int64_t{tick + 1} * 1'000'000'000;
  while (std::chrono::steady_clock::now() < deadline) {
    if (drained()) {
      // After drops the count of deliveries due is not exact (an orphaned SEND may have been
      // delivered): give replays and late copies a moment more.
      if (counters_.churn.drops > 0)
        std::this_thread::sleep_for(
            std::min<std::chrono::nanoseconds>(1s, deadline - std::chrono::steady_clock::now()));
      break;
    }
    std::this_thread::sleep_for(10ms);
    if (steady_now_ns() >= next_tick) {
      progress_.tick(++tick);
      next_tick += 1'000'000'000;
    }
  }
  progress_.tick(static_cast<double>(steady_now_ns() - t0) / 1e9, true);
  traffic_.close_answers();
  pool_->close_all();
}

run_result load_run::execute() {
  if (opt_.members == 0 || opt_.members > opt_.users) throw std::runtime_error("members must be 1..users");
  setup_ = set_up(opt_, plan_, nonce_, counters_.errors);
  pool_.emplace(ioc_, opt_, plan_, setup_, dialect_, counters_);
  model_ = make_model();
  io_threads io(ioc_, workers_);
  cpu_times cpu0;
  try {
    pool_->open(*this);
    const std::int64_t t0 = steady_now_ns() + 200'000'000;
    traffic_.start(t0);
    cpu0 = process_cpu_times();
    progress_.start(t0, cpu0);
    std::optional<login_flood> flood;
    if (opt_.login_flood > 0) {
      flood.emplace(opt_.login_flood, rest_login(opt_.http), nonce_);
      flood->start(t0 + std::chrono::nanoseconds(opt_.ramp_up + opt_.warmup).count(), t0 + traffic_.end_offset_ns());
    }
    std::atomic<bool> churn_stop{false};
    std::optional<std::thread> churner;
    if (opt_.churn > 0) churner.emplace([this, t0, &churn_stop] { churn(t0, churn_stop); });
    struct join_churner {  // also when the model throws
      std::atomic<bool>& stop;
      std::optional<std::thread>& thread;
      ~join_churner() {
        stop = true;
        if (thread && thread->joinable()) thread->join();
      }
    } churn_guard{churn_stop, churner};
    const auto stages_before = scrape_servers();
    model_->run(t0, [this](int n) { progress_.tick(n); });
    churn_stop = true;
    if (churner) churner->join();
    if (flood) flood_ = flood->join();
    drain_and_close();
    if (stages_before) {
      if (const auto after = scrape_servers()) {
        stage_histograms over_run;
        for (std::size_t i = 0; i < after->size(); ++i) {
          for (const auto& [stage, h] : (*after)[i]) {
            const auto b = (*stages_before)[i].find(stage);
            over_run[stage].merge(
                stage_histogram::delta(h, b == (*stages_before)[i].end() ? stage_histogram{} : b->second));
          }
        }
        server_stages_ = summarize_stages(over_run);
      }
    }
  } catch (...) {
    pool_->abort_all();
    std::this_thread::sleep_for(100ms);
    io.stop();
    throw;
  }
  const auto cpu1 = process_cpu_times();
  const double elapsed_s = static_cast<double>(steady_now_ns() - traffic_.t0_ns()) / 1e9;
  io.stop();
  if (const auto failure = io.failure()) std::rethrow_exception(failure);
  return results(cpu0, cpu1, elapsed_s);
}

run_result load_run::results(const cpu_times& cpu0, const cpu_times& cpu1, double elapsed_s) {
  run_result r;
  r.elapsed_s = elapsed_s;
  r.per_second = interval_series(workers_.empty() ? 1 : workers_[0].per_second.size());
  for (auto& w : workers_) {
    r.per_second.merge(w.per_second);
    r.delivery.merge(w.delivery);
    r.receipt.merge(w.receipt);
    r.connect.merge(w.connect);
    r.subscribe.merge(w.subscribe);
    r.generator.send_lag.merge(w.send_lag);
  }
  const auto t = traffic_.deliveries().summarize();
  r.setup_source = setup_.source;
  r.setup_s = setup_.seconds;
  r.sessions_s = pool_->open_seconds();
  r.sessions = pool_->size();
  r.sent = counters_.sent;
  r.dropped_sends = counters_.dropped;
  r.send_errors = counters_.send_errors;
  r.planned = opt_.model == load_model::open ? planned_ : r.sent + r.send_errors;
  r.receipts = counters_.receipts;
  r.receipt_timeouts = counters_.receipt_timeouts;
  r.expected = t.expected;
  r.delivered = t.delivered;
  r.lost = t.lost;
  r.duplicated = t.duplicated;
  r.reordered = t.reordered;
  r.errors_by_kind = counters_.errors.by_kind();
  for (auto& [k, v] : r.errors_by_kind) r.errors += v;
  r.timeline = progress_.timeline();

  auto& a = r.answers;
  for (std::size_t i = 0; i < send_outcome_count; ++i) a.outcomes[i] = t.outcomes[i];
  a.answered_twice = counters_.answered_twice;
  a.after_drain = counters_.answers_after_drain;
  a.refusals_by_message = counters_.refusals.by_kind();
  a.receipted_expected = t.receipted_expected;
  a.receipted_delivered = t.receipted_delivered;
  a.receipted_lost = t.receipted_lost;
  a.receipted_duplicated = t.receipted_duplicated;
  a.receipted_reordered = t.receipted_reordered;
  a.refused_but_delivered = t.refused_but_delivered;
  r.disconnected_by_reason = counters_.disconnected.by_kind();
  for (const auto& [k, v] : r.disconnected_by_reason) r.sessions_disconnected += v;

  const auto phases = measured_phases(opt_);
  double start_s = std::chrono::duration<double>(opt_.ramp_up + opt_.warmup).count();
  for (std::size_t i = 0; i < phases.size(); ++i) {
    phase_result ph;
    ph.phase = phases[i];
    ph.start_s = start_s;
    if (opt_.model == load_model::open)
      ph.planned = plan_.sends_in(start_s + phases[i].seconds) - plan_.sends_in(start_s);
    for (auto& w : workers_)
      if (i < w.phases.size()) ph.stats.merge(w.phases[i]);
    start_s += phases[i].seconds;
    if (i + 1 < phases.size()) ph.recovery_s = recovery_seconds(r.per_second, start_s, opt_.recovery_threshold_ms);
    r.phases.push_back(std::move(ph));
  }
  if (!r.phases.empty()) r.recovery_s = r.phases.front().recovery_s;
  r.login_flood = flood_;
  r.server_stages = server_stages_;
  r.server_stages_error = server_stages_error_;
  for (std::size_t k = 0; k < event_count; ++k) r.events.by_kind[k] = t.by_kind[k];
  r.events.fallbacks = counters_.mix_fallbacks;
  r.events.receipts_without_id = counters_.receipts_without_id;
  r.events.read_events = counters_.read_events;

  auto& ch = r.churn;
  const auto& cc = counters_.churn;
  ch.rate = opt_.churn;
  ch.drops = cc.drops;
  ch.reconnects = cc.reconnects;
  ch.failed = cc.failed;
  ch.skipped = cc.skipped;
  ch.recovered = cc.recovered;
  ch.not_recovered = cc.not_recovered;
  ch.no_header = cc.no_header;
  ch.recovered_events = cc.recovered_events;
  ch.truncations = cc.truncations;
  ch.unsent = cc.unsent;
  ch.orphaned = cc.orphaned;
  for (auto& w : workers_) ch.reconnect.merge(w.reconnect);

  auto& g = r.generator;
  g.scheduler_lag = model_->scheduler_lag();
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
