#pragma once
// The `scheduler` role (SPEC §16, docs/operations.md "Scheduler"): a thread of its own with a
// PostgreSQL connection of its own that, every --scheduler-tick, claims due schedules
// (store::claim_due_schedules: FOR UPDATE SKIP LOCKED, so any number of nodes share the work and
// none takes a row another holds) and sends each occurrence through the normal pipeline — a
// `message` event of the author on chat.messages, published like a REST POST. Only once Kafka
// acknowledged an occurrence is its schedule moved on (the next occurrence, or done), in the
// transaction that held the row lock. A node that dies between the acknowledgement and the
// commit leaves the row as it was: the next claimer sends the same occurrence again with the same
// messageKey (schedule_rules.hpp), which the persistence consumer stores once and the broadcast
// consumer delivers once. So each occurrence is in the store exactly once, across node kills and
// restarts.
//
// Due schedules whose author is no longer a member of the room (or whose DIRECT room's pair
// blocks each other now) are cancelled, not sent. Work per tick is bounded: at most
// max_batches_per_tick claims of batch_size rows.
#include "core/message_log.hpp"
#include "metrics/metrics.hpp"
#include "store/connection.hpp"
#include "store/scheduled.hpp"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

namespace chat::chatd::scheduler {

struct scheduler_options {
  std::chrono::milliseconds tick{1000};  // --scheduler-tick
  int batch_size = 100;                  // schedules claimed per transaction
  int max_batches_per_tick = 10;
  // How long a batch waits for Kafka's answers (the producer answers within --send-timeout).
  std::chrono::milliseconds ack_timeout{35000};
  std::chrono::milliseconds late_after{5000};  // schedule_rules.hpp late_after(tick)
};

// Counters of docs/operations.md "Scheduler"; any may be null. Counted after the commit.
struct scheduler_counters {
  metrics::counter* sent = nullptr;                  // chat_scheduled_sends_total
  metrics::counter* late = nullptr;                  // chat_scheduled_late_sends_total
  metrics::counter* skipped = nullptr;               // chat_scheduled_skipped_occurrences_total
  metrics::counter* cancelled_not_member = nullptr;  // chat_scheduled_cancellations_total{reason="not_member"}
  metrics::counter* cancelled_blocked = nullptr;     // chat_scheduled_cancellations_total{reason="blocked"}
  metrics::counter* failed = nullptr;                // chat_scheduled_send_failures_total
};

// What one batch did (run_batch).
struct batch_report {
  std::size_t claimed = 0;
  std::size_t sent = 0;       // acknowledged and recorded
  std::size_t late = 0;       // of `sent`, with scheduledFor
  std::size_t skipped = 0;    // older missed occurrences of repeating schedules, not sent
  std::size_t cancelled = 0;  // not sent: the author left, or a blocked DIRECT pair
  std::size_t failed = 0;     // not acknowledged: claimed again at a later tick
  bool committed = false;
};

// One batch over a claim: publish every due occurrence (or record its cancellation), wait for
// Kafka's answers (at most options.ack_timeout, or until `give_up` answers true: a shutdown),
// record the acknowledged ones and commit. An occurrence not answered by then stays due and is
// sent again later under the same messageKey. Runs on the scheduler thread (it blocks); exposed
// for tests with a fake claim and log.
batch_report run_batch(store::due_claim& claim, message_log& log, std::int64_t now_ms, const scheduler_options& options,
                       const scheduler_counters& counters, const std::function<bool()>& give_up = {});

class scheduler_loop {
 public:
  // `log` must outlive the loop (the app stops the loop before the producer).
  scheduler_loop(std::string database_url, std::chrono::milliseconds connect_timeout, message_log& log,
                 scheduler_options options, scheduler_counters counters);
  ~scheduler_loop();
  scheduler_loop(const scheduler_loop&) = delete;
  scheduler_loop& operator=(const scheduler_loop&) = delete;

  void start();
  // Ends the loop after the batch in progress (the occurrences acknowledged so far recorded and
  // committed; the others stay due) and joins the thread. Idempotent.
  void stop();

 private:
  void run();
  // One tick: batches until one is not full, or max_batches_per_tick.
  void tick(store::connection& db);

  std::string database_url_;
  std::chrono::milliseconds connect_timeout_;
  message_log& log_;
  const scheduler_options options_;
  const scheduler_counters counters_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::atomic<bool> stopping_{false};  // set under mutex_ (wake_'s predicate)
  bool db_down_ = false;               // the scheduler thread's: the last claim failed (logged once per outage)
  std::thread thread_;
};

}  // namespace chat::chatd::scheduler
