#include "scheduler/scheduler.hpp"

#include "scheduler/schedule_rules.hpp"
#include "store/connection.hpp"

#include <chat/common/time.hpp>
#include <chat/log/log.hpp>

#include <vector>

namespace chat::chatd::scheduler {
namespace {

void count(metrics::counter* c, std::size_t n) {
  if (c != nullptr && n > 0) c->inc(n);
}

// The answers of one batch's publishes: the producer's delivery thread fills them, the scheduler
// thread waits for them. Shared, because an answer may come after the batch stopped waiting.
struct pending_answers {
  std::mutex mutex;
  std::condition_variable done;
  std::vector<std::optional<publish_result>> results;
  std::size_t outstanding = 0;
};

// One occurrence on its way: which schedule, what was planned.
struct in_flight {
  const store::due_schedule* schedule = nullptr;
  occurrence_plan plan;
  std::string message_key;
};

}  // namespace

batch_report run_batch(store::due_claim& claim, message_log& log, std::int64_t now_ms, const scheduler_options& options,
                       const scheduler_counters& counters, const std::function<bool()>& give_up) {
  batch_report report;
  const auto schedules = claim.schedules();
  report.claimed = schedules.size();
  std::size_t cancelled_not_member = 0;
  std::size_t cancelled_blocked = 0;
  std::vector<in_flight> sends;
  sends.reserve(schedules.size());
  for (const auto& s : schedules) {
    if (!s.author_is_member) {
      log::info("scheduled message cancelled: its author is no longer a member of the room",
                {{"schedule", s.id}, {"room", s.room_id}, {"user", s.author_id}});
      claim.cancelled(s.id, store::schedule_cancel_reason::not_member);
      ++cancelled_not_member;
      continue;
    }
    if (s.blocked) {
      log::info("scheduled message cancelled: the direct room's members block each other",
                {{"schedule", s.id}, {"room", s.room_id}, {"user", s.author_id}});
      claim.cancelled(s.id, store::schedule_cancel_reason::blocked);
      ++cancelled_blocked;
      continue;
    }
    in_flight f;
    f.schedule = &s;
    f.plan =
        plan_occurrence(s.first_at_ms, s.repeat, s.next_at_ms, s.created_at_ms, now_ms, options.late_after.count());
    f.message_key = occurrence_message_key(s.id, f.plan.occurrence_ms);
    sends.push_back(std::move(f));
  }

  auto answers = std::make_shared<pending_answers>();
  answers->results.resize(sends.size());
  answers->outstanding = sends.size();
  for (std::size_t i = 0; i < sends.size(); ++i) {
    const auto& f = sends[i];
    proto::chat_message m;
    m.message_key = f.message_key;
    m.room_id = f.schedule->room_id;
    m.sender_id = f.schedule->author_id;
    m.sender_nickname = f.schedule->author_nickname;
    m.content = f.schedule->content;
    m.type = proto::message_type::text;
    m.created_at_ms = now_ms;
    if (f.plan.late) m.scheduled_for_ms = f.plan.occurrence_ms;
    log.publish_message(m, [answers, i](const publish_result& r) {
      std::lock_guard lock(answers->mutex);
      answers->results[i] = r;
      if (--answers->outstanding == 0) answers->done.notify_all();
    });
  }
  std::vector<std::optional<publish_result>> results;
  {
    // In slices, so that a shutdown does not wait for a broker that does not answer.
    constexpr auto slice = std::chrono::milliseconds(100);
    const auto deadline = std::chrono::steady_clock::now() + options.ack_timeout;
    std::unique_lock lock(answers->mutex);
    while (answers->outstanding > 0) {
      const auto now = std::chrono::steady_clock::now();
      if (now >= deadline || (give_up && give_up())) break;
      answers->done.wait_for(lock, std::min<std::chrono::steady_clock::duration>(slice, deadline - now));
    }
    results = answers->results;  // a late answer is not looked at: the occurrence is sent again
  }

  std::size_t sent = 0, late = 0, skipped = 0, failed = 0;
  for (std::size_t i = 0; i < sends.size(); ++i) {
    const auto& f = sends[i];
    const auto& r = results[i];
    if (!r || !r->ok) {
      ++failed;
      log::warn("scheduled message not sent, retried at a later tick",
                {{"schedule", f.schedule->id},
                 {"room", f.schedule->room_id},
                 {"messageKey", f.message_key},
                 {"error", r ? r->error : std::string("no acknowledgement in time")}});
      continue;
    }
    claim.sent(f.schedule->id, f.plan.occurrence_ms, f.plan.next_at_ms);
    ++sent;
    if (f.plan.late) ++late;
    skipped += static_cast<std::size_t>(f.plan.skipped);
    if (f.plan.late || f.plan.skipped > 0) {
      log::info("scheduled message sent late", {{"schedule", f.schedule->id},
                                                {"room", f.schedule->room_id},
                                                {"scheduledFor", common::format_iso8601_ms(f.plan.occurrence_ms)},
                                                {"skipped", f.plan.skipped}});
    }
  }

  const auto committed = claim.commit();
  report.failed = failed;
  count(counters.failed, failed);
  if (!committed) {
    // The acknowledged occurrences are sent again by the next claimer, with the same keys.
    log::warn("scheduled messages not recorded as sent, sent again later (the store keeps each once)",
              {{"sent", static_cast<std::int64_t>(sent)}, {"error", committed.error().message}});
    return report;
  }
  report.committed = true;
  report.sent = sent;
  report.late = late;
  report.skipped = skipped;
  report.cancelled = cancelled_not_member + cancelled_blocked;
  count(counters.sent, sent);
  count(counters.late, late);
  count(counters.skipped, skipped);
  count(counters.cancelled_not_member, cancelled_not_member);
  count(counters.cancelled_blocked, cancelled_blocked);
  return report;
}

scheduler_loop::scheduler_loop(std::string database_url, std::chrono::milliseconds connect_timeout, message_log& log,
                               scheduler_options options, scheduler_counters counters)
    : database_url_(std::move(database_url)),
      connect_timeout_(connect_timeout),
      log_(log),
      options_(options),
      counters_(counters) {}

scheduler_loop::~scheduler_loop() { stop(); }

void scheduler_loop::start() {
  thread_ = std::thread([this] { run(); });
}

void scheduler_loop::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void scheduler_loop::run() {
  const int connect_timeout_s = static_cast<int>(std::max<std::int64_t>(1, (connect_timeout_.count() + 999) / 1000));
  store::connection db(store::with_session_parameters(database_url_, "chatd-scheduler"), connect_timeout_s);
  log::info("scheduler started", {{"tick_ms", static_cast<std::int64_t>(options_.tick.count())}});
  for (;;) {
    {
      std::unique_lock lock(mutex_);
      if (wake_.wait_for(lock, options_.tick, [this] { return stopping_.load(); })) break;
    }
    tick(db);
  }
  log::info("scheduler stopped");
}

void scheduler_loop::tick(store::connection& db) {
  for (int batch = 0; batch < options_.max_batches_per_tick; ++batch) {
    if (stopping_.load(std::memory_order_relaxed)) return;
    std::string error;
    store::session* session = db.get(error);
    if (session == nullptr) {
      // Once per outage, not once per tick.
      if (!db_down_) log::warn("scheduler: database unavailable, retrying every tick", {{"error", error}});
      db_down_ = true;
      return;
    }
    auto claim = store::claim_due_schedules(*session, common::now_unix_ms(), options_.batch_size);
    if (!claim) {
      if (!db_down_) {
        log::warn("scheduler: cannot claim due schedules, retrying every tick",
                  {{"error", claim.error().message}, {"sqlstate", claim.error().sqlstate}});
      }
      db_down_ = true;
      if (!claim.error().about_the_data()) db.reset();
      return;
    }
    if (db_down_) log::info("scheduler: database available again");
    db_down_ = false;
    const auto report = run_batch(**claim, log_, common::now_unix_ms(), options_, counters_,
                                  [this] { return stopping_.load(std::memory_order_relaxed); });
    claim->reset();  // ends the transaction (rolled back when not committed)
    if (!report.committed && report.claimed > 0) db.reset();
    if (report.claimed < static_cast<std::size_t>(options_.batch_size) || report.failed > 0) return;
  }
}

}  // namespace chat::chatd::scheduler
