#pragma once
// One Kafka consumer-group member on its own thread: poll a batch, hand it to a
// batch_handler, commit the offsets after the handler's work is done (docs/topics.md).
//
// Rules, in the order the loop applies them:
//   - Batches: up to max_batch records; once the first record is there, the loop waits at
//     most batch_wait for more (batch_wait 0: whatever is already fetched).
//   - Commit: per partition, last processed offset + 1, only after handle() succeeded
//     (and the poison sink took the failed records). A failed commit is retried with the
//     next one; the work is idempotent, so a redelivery after a crash is harmless.
//   - Infrastructure failure (handle() reports infra_error, or a record is retryable):
//     nothing is committed and the loop does not move on. It keeps the batch in memory,
//     pauses its partitions, backs off retry_backoff while still polling (so the group
//     membership and max.poll.interval.ms stay satisfied), and hands the same batch to the
//     handler again, until it succeeds ("block"). The dead-letter policy
//     (failure_policy.hpp) may give up after the retries, but only into a durable sink.
//   - Poison records (failure_kind::poison) go to the poison sink and the partition moves
//     on.
//   - Rebalance: on revoke, progress already done is committed and records of the revoked
//     partitions that are not done are dropped (the next owner reads them again from the
//     committed offset), so the order within a partition holds.
//   - Stop: the batch in hand is finished and committed (retried until the stop deadline
//     if a dependency is down, then left uncommitted for redelivery); then the consumer
//     leaves the group.
#include "pipeline/batch_handler.hpp"
#include "pipeline/failure_policy.hpp"
#include "pipeline/offset_tracker.hpp"
#include "pipeline/poison_sink.hpp"

#include <chat/kafka/consumer.hpp>
#include <chat/kafka/reader.hpp>
#include <chat/kafka/settings.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace chat::chatd::pipeline {

// Counters of one consumer, readable from any thread (a later /metrics).
struct consumer_stats {
  std::atomic<std::uint64_t> records{0};            // records done (processed or given to the sink)
  std::atomic<std::uint64_t> batches{0};            // batches done
  std::atomic<std::uint64_t> poison{0};             // records given to the poison sink
  std::atomic<std::uint64_t> failed_attempts{0};    // handle() attempts that failed and were retried
  std::atomic<std::uint64_t> commit_failures{0};    // offset commits the broker refused
  std::atomic<std::uint64_t> dropped_on_revoke{0};  // in-flight records dropped by a rebalance
  std::atomic<std::uint64_t> handle_ns{0};          // total time spent in handle()
  std::atomic<bool> blocked{false};                 // retrying a failed batch right now
  std::atomic<bool> joined{false};                  // a first assignment (maybe empty) arrived
};

struct loop_options {
  std::string group;                // consumer group id
  std::vector<std::string> topics;  // subscription
  std::size_t max_batch = 500;
  std::chrono::milliseconds batch_wait{10};
  std::chrono::milliseconds retry_backoff{1000};
  failure_policy failures;
  // Called on the loop's thread once per settled batch (handled, failures given to the
  // sink, offsets committed) with how long that took: from the start of the batch's first
  // handle() to the end of its commit, so retries while a dependency was down are
  // included (chat_message_consume_duration_seconds). Optional. Must not throw.
  std::function<void(std::chrono::nanoseconds batch_time, std::size_t records)> on_batch_done;
};

class consumer_loop {
 public:
  using clock = std::chrono::steady_clock;

  // Creates the consumer and subscribes (no thread yet). Throws std::runtime_error when a
  // Kafka setting is invalid.
  consumer_loop(const kafka::settings& settings, loop_options options, std::unique_ptr<batch_handler> handler,
                std::unique_ptr<poison_sink> sink);
  // request_stop(now) and join(): an unfinished batch is left uncommitted.
  ~consumer_loop();
  consumer_loop(const consumer_loop&) = delete;
  consumer_loop& operator=(const consumer_loop&) = delete;

  void start();
  // Thread-safe; returns at once. See "Stop" above. A later call may only shorten the
  // deadline.
  void request_stop(clock::time_point deadline);
  // Waits for the thread to end. Idempotent.
  void join();

  const std::string& group() const noexcept { return options_.group; }
  const consumer_stats& stats() const noexcept { return stats_; }
  // Lag per assigned partition (kafka::consumer::lag()). The consumer's high watermarks
  // come from its fetches, which stop while the loop is blocked (partitions paused): then
  // the loop queries them every few seconds, so the lag keeps growing with what arrives
  // during an outage. Any thread.
  std::vector<std::pair<kafka::topic_partition, std::int64_t>> lag();

 private:
  void run();
  void fill_batch();
  void process_batch();
  // Waits retry_backoff with the assignment paused, polling; false when the stop deadline
  // passed (the batch is to be abandoned).
  bool back_off();
  void append(std::vector<kafka::record>& records);
  void commit_pending();
  void on_revoke(const std::vector<kafka::topic_partition>& revoked);
  void log_poll_error(const std::error_code& ec);
  // While blocked: asks the brokers for the high watermarks of the assignment (at most
  // every watermark_refresh_interval), for lag().
  void refresh_high_watermarks();
  void forget_high_watermarks();
  bool stop_requested() const noexcept { return stop_.load(std::memory_order_acquire); }
  bool past_stop_deadline() const;

  loop_options options_;
  std::unique_ptr<batch_handler> handler_;
  std::unique_ptr<poison_sink> sink_;
  consumer_stats stats_;

  std::atomic<bool> stop_{false};
  mutable std::mutex stop_mutex_;
  clock::time_point stop_deadline_ = clock::time_point::max();

  // Loop thread only.
  std::vector<kafka::record> batch_;
  offset_tracker offsets_;
  bool paused_ = false;
  clock::time_point last_poll_error_log_{};
  std::uint64_t poll_errors_unlogged_ = 0;

  // The high watermarks queried while blocked, per (topic, partition).
  mutable std::mutex watermarks_mutex_;
  std::map<std::pair<std::string, std::int32_t>, std::int64_t> queried_high_;  // guarded by watermarks_mutex_

  // Loop thread only: a group-less client for the watermark queries, made when first blocked.
  kafka::settings settings_;
  std::unique_ptr<kafka::reader> watermark_reader_;
  clock::time_point next_watermark_refresh_{};

  std::unique_ptr<kafka::consumer> consumer_;  // before thread_: destroyed after the join
  std::thread thread_;
};

}  // namespace chat::chatd::pipeline
