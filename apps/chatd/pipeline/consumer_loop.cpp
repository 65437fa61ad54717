#include "pipeline/consumer_loop.hpp"

#include <chat/log/log.hpp>

#include <algorithm>
#include <exception>

namespace chat::chatd::pipeline {

namespace {

using namespace std::chrono_literals;

// Longest single poll: bounds how late the loop notices request_stop().
constexpr auto idle_poll = 100ms;
// A failing batch is logged at its first failure and then every this many attempts.
constexpr int log_every_attempts = 10;
constexpr auto poll_error_log_interval = 10s;
// While retrying, records that still arrive (a partition assigned meanwhile) are kept,
// up to this many times max_batch; beyond it the loop stops taking them (they are
// fetched again later: nothing was committed past them).
constexpr std::size_t retry_growth_factor = 2;
// While blocked, the high watermarks for lag() are queried this often, each query waiting
// at most watermark_query_timeout (the loop is only backing off meanwhile).
constexpr auto watermark_refresh_interval = 2s;
constexpr auto watermark_query_timeout = 500ms;

std::int64_t ms_between(consumer_loop::clock::time_point a, consumer_loop::clock::time_point b) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(b - a).count();
}

}  // namespace

consumer_loop::consumer_loop(const kafka::settings& settings, loop_options options,
                             std::unique_ptr<batch_handler> handler, std::unique_ptr<poison_sink> sink)
    : options_(std::move(options)), handler_(std::move(handler)), sink_(std::move(sink)), settings_(settings) {
  options_.max_batch = std::max<std::size_t>(1, options_.max_batch);
  options_.failures.durable_sink = sink_->durable();
  consumer_ = std::make_unique<kafka::consumer>(settings, options_.group, options_.topics);
  consumer_->on_assign([this](const std::vector<kafka::topic_partition>& assigned) {
    std::string list;
    for (const auto& tp : assigned) list += (list.empty() ? "" : ",") + tp.topic + ":" + std::to_string(tp.partition);
    log::info("partitions assigned", {{"group", options_.group}, {"partitions", list}});
    stats_.joined.store(true, std::memory_order_release);
  });
  consumer_->on_revoke([this](const std::vector<kafka::topic_partition>& revoked) { on_revoke(revoked); });
}

consumer_loop::~consumer_loop() {
  request_stop(clock::now());
  join();
}

void consumer_loop::start() {
  thread_ = std::thread([this] { run(); });
}

void consumer_loop::request_stop(clock::time_point deadline) {
  {
    std::lock_guard lock(stop_mutex_);
    stop_deadline_ = std::min(stop_deadline_, deadline);
  }
  stop_.store(true, std::memory_order_release);
}

void consumer_loop::join() {
  if (thread_.joinable()) thread_.join();
}

bool consumer_loop::past_stop_deadline() const {
  if (!stop_requested()) return false;
  std::lock_guard lock(stop_mutex_);
  return clock::now() >= stop_deadline_;
}

std::vector<std::pair<kafka::topic_partition, std::int64_t>> consumer_loop::lag() {
  auto out = consumer_->lag();
  std::lock_guard lock(watermarks_mutex_);
  if (queried_high_.empty()) return out;
  for (auto& [tp, behind] : out) {
    const auto it = queried_high_.find({tp.topic, tp.partition});
    if (it != queried_high_.end() && tp.offset >= 0) behind = std::max(behind, it->second - tp.offset);
  }
  return out;
}

void consumer_loop::refresh_high_watermarks() {
  const auto now = clock::now();
  if (now < next_watermark_refresh_) return;
  next_watermark_refresh_ = now + watermark_refresh_interval;
  if (!watermark_reader_) {
    auto s = settings_;
    s.emplace_back("client.id", "chatd-" + options_.group + "-watermarks");
    try {
      watermark_reader_ = std::make_unique<kafka::reader>(s);
    } catch (const std::exception& e) {
      log::warn("cannot query watermarks for the lag", {{"group", options_.group}, {"error", e.what()}});
      next_watermark_refresh_ = clock::time_point::max();  // the settings will not get better
      return;
    }
  }
  for (const auto& tp : consumer_->assignment()) {
    kafka::watermarks w;
    if (watermark_reader_->query_watermarks(tp.topic, tp.partition, w, watermark_query_timeout)) continue;
    std::lock_guard lock(watermarks_mutex_);
    queried_high_[{tp.topic, tp.partition}] = w.high;
  }
}

void consumer_loop::forget_high_watermarks() {
  std::lock_guard lock(watermarks_mutex_);
  queried_high_.clear();
}

void consumer_loop::run() {
  log::info("consumer started", {{"group", options_.group},
                                 {"max_batch", static_cast<std::int64_t>(options_.max_batch)},
                                 {"batch_wait_ms", static_cast<std::int64_t>(options_.batch_wait.count())}});
  for (;;) {
    if (batch_.empty()) {
      if (stop_requested()) break;
      fill_batch();
      if (batch_.empty()) {
        if (!offsets_.empty()) commit_pending();  // a commit that failed earlier
        handler_->on_idle();
        continue;
      }
    }
    process_batch();
  }
  commit_pending();
  consumer_->close();  // leaves the group; on_revoke commits what is left
  log::info("consumer stopped", {{"group", options_.group},
                                 {"records", static_cast<std::int64_t>(stats_.records.load())},
                                 {"batches", static_cast<std::int64_t>(stats_.batches.load())}});
}

void consumer_loop::append(std::vector<kafka::record>& records) {
  batch_.reserve(batch_.size() + records.size());
  for (auto& r : records) batch_.push_back(std::move(r));
}

void consumer_loop::fill_batch() {
  std::error_code ec;
  auto first = consumer_->poll(options_.max_batch, idle_poll, ec);
  if (ec) log_poll_error(ec);
  append(first);
  if (batch_.empty() || options_.batch_wait.count() <= 0) return;
  const auto deadline = clock::now() + options_.batch_wait;
  while (!batch_.empty() && batch_.size() < options_.max_batch && !stop_requested()) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock::now());
    if (left.count() <= 0) break;
    auto more = consumer_->poll(options_.max_batch - batch_.size(), left, ec);
    if (ec) log_poll_error(ec);
    append(more);
  }
}

void consumer_loop::process_batch() {
  int attempts = 0;
  auto first_failure = clock::time_point{};
  const auto batch_started = clock::now();
  while (!batch_.empty()) {
    ++attempts;
    const auto started = clock::now();
    batch_outcome outcome;
    try {
      outcome = handler_->handle(std::span<const kafka::record>(batch_.data(), batch_.size()));
    } catch (const std::exception& e) {
      // Handlers report failures instead of throwing; a throw is a bug or bad_alloc.
      outcome = batch_outcome::infra(std::string("handler threw: ") + e.what());
    }
    stats_.handle_ns.fetch_add(
        static_cast<std::uint64_t>(
            std::chrono::duration_cast<std::chrono::nanoseconds>(clock::now() - started).count()),
        std::memory_order_relaxed);

    // An infrastructure failure makes every record of the batch retryable.
    if (outcome.infra_error) {
      outcome.failures.clear();
      for (std::size_t i = 0; i < batch_.size(); ++i) {
        outcome.failures.push_back({i, failure_kind::retryable, "infrastructure", *outcome.infra_error});
      }
    }
    std::string retry_reason;
    for (const auto& f : outcome.failures) {
      if (options_.failures.decide(f.kind, attempts) == failure_action::retry) {
        retry_reason = f.message;
        break;
      }
    }
    // Everything left is settled: hand the failed records to the sink.
    if (retry_reason.empty()) {
      for (const auto& f : outcome.failures) {
        if (f.index >= batch_.size()) continue;
        if (!sink_->accept(batch_[f.index], f, attempts)) {
          retry_reason = "the poison sink refused a record";
          break;
        }
        stats_.poison.fetch_add(1, std::memory_order_relaxed);
      }
    }

    if (!retry_reason.empty()) {
      stats_.failed_attempts.fetch_add(1, std::memory_order_relaxed);
      stats_.blocked.store(true, std::memory_order_relaxed);
      if (attempts == 1) first_failure = started;
      if (attempts == 1 || attempts % log_every_attempts == 0) {
        log::warn("batch failed, retrying", {{"group", options_.group},
                                             {"topic", batch_.front().topic()},
                                             {"error", retry_reason},
                                             {"records", static_cast<std::int64_t>(batch_.size())},
                                             {"partition", batch_.front().partition()},
                                             {"offset", batch_.front().offset()},
                                             {"attempt", attempts}});
      }
      if (!back_off()) {
        log::warn(
            "stop deadline passed: leaving the failed batch uncommitted for redelivery",
            {{"group", options_.group}, {"records", static_cast<std::int64_t>(batch_.size())}, {"attempts", attempts}});
        batch_.clear();
      }
      continue;
    }

    // Settled: no longer blocked, before the commit makes the progress visible. The
    // fetches resume and keep the consumer's own watermarks fresh again.
    stats_.blocked.store(false, std::memory_order_release);
    if (attempts > 1) forget_high_watermarks();
    for (const auto& r : batch_) offsets_.processed(r.topic(), r.partition(), r.offset());
    commit_pending();
    if (options_.on_batch_done) options_.on_batch_done(clock::now() - batch_started, batch_.size());
    handler_->after_commit();
    stats_.records.fetch_add(batch_.size(), std::memory_order_relaxed);
    stats_.batches.fetch_add(1, std::memory_order_relaxed);
    if (attempts > 1) {
      log::info(
          "batch succeeded after retries",
          {{"group", options_.group}, {"attempts", attempts}, {"blocked_ms", ms_between(first_failure, clock::now())}});
    }
    batch_.clear();
  }
  stats_.blocked.store(false, std::memory_order_release);
  if (paused_) {
    consumer_->resume(consumer_->assignment());
    paused_ = false;
  }
}

bool consumer_loop::back_off() {
  const auto until = clock::now() + options_.retry_backoff;
  std::error_code ec;
  while (!batch_.empty()) {
    if (past_stop_deadline()) return false;
    refresh_high_watermarks();
    const auto now = clock::now();
    if (now >= until) break;
    // Paused every round: a partition assigned since the last round starts unpaused.
    consumer_->pause(consumer_->assignment());
    paused_ = true;
    const auto wait = std::min<std::chrono::milliseconds>(
        idle_poll, std::chrono::duration_cast<std::chrono::milliseconds>(until - now) + 1ms);
    const std::size_t room = options_.max_batch * retry_growth_factor > batch_.size()
                                 ? options_.max_batch * retry_growth_factor - batch_.size()
                                 : 1;  // still poll, so rebalances and membership are served
    auto arrived = consumer_->poll(room, wait, ec);
    if (ec) log_poll_error(ec);
    append(arrived);
  }
  return true;
}

void consumer_loop::commit_pending() {
  if (offsets_.empty()) return;
  const auto offsets = offsets_.pending();
  if (const auto ec = consumer_->commit(offsets)) {
    stats_.commit_failures.fetch_add(1, std::memory_order_relaxed);
    log::warn("offset commit failed; retrying with the next commit",
              {{"group", options_.group}, {"error", ec.message()}});
    return;
  }
  offsets_.committed(offsets);
}

// Runs inside poll() or close() on the loop thread.
void consumer_loop::on_revoke(const std::vector<kafka::topic_partition>& revoked) {
  // Progress that is done may still be committed: this member owns the partitions until
  // this callback returns.
  if (const auto done = offsets_.pending_of(revoked); !done.empty()) {
    if (const auto ec = consumer_->commit(done)) {
      stats_.commit_failures.fetch_add(1, std::memory_order_relaxed);
      log::warn("offset commit on revoke failed", {{"group", options_.group}, {"error", ec.message()}});
    }
  }
  offsets_.forget(revoked);
  {
    std::lock_guard lock(watermarks_mutex_);
    for (const auto& tp : revoked) queried_high_.erase({tp.topic, tp.partition});
  }
  const auto before = batch_.size();
  std::erase_if(batch_, [&](const kafka::record& r) {
    return std::any_of(revoked.begin(), revoked.end(), [&](const kafka::topic_partition& tp) {
      return tp.partition == r.partition() && tp.topic == r.topic();
    });
  });
  const auto dropped = before - batch_.size();
  stats_.dropped_on_revoke.fetch_add(dropped, std::memory_order_relaxed);
  std::string list;
  for (const auto& tp : revoked) list += (list.empty() ? "" : ",") + tp.topic + ":" + std::to_string(tp.partition);
  log::info(
      "partitions revoked",
      {{"group", options_.group}, {"partitions", list}, {"dropped_in_flight", static_cast<std::int64_t>(dropped)}});
  if (batch_.empty()) paused_ = false;  // nothing held back: what is assigned next starts unpaused
}

void consumer_loop::log_poll_error(const std::error_code& ec) {
  const auto now = clock::now();
  if (now - last_poll_error_log_ < poll_error_log_interval) {
    ++poll_errors_unlogged_;
    return;
  }
  log::warn("kafka consumer error", {{"group", options_.group},
                                     {"error", ec.message()},
                                     {"suppressed", static_cast<std::int64_t>(poll_errors_unlogged_)}});
  last_poll_error_log_ = now;
  poll_errors_unlogged_ = 0;
}

}  // namespace chat::chatd::pipeline
