#pragma once
// Admission control for publishes (docs/stomp.md "Overload"): a per-node bound on what was
// accepted from clients and handed to the message log but not yet acknowledged by it,
// counted in records (--max-inflight-sends) and bytes (--max-inflight-bytes).
//
// At the bound a STOMP session waits for a slot (FIFO, so no sender starves): it stops
// processing frames and stops reading its socket, so TCP backpressure reaches the client;
// a slot freed by an acknowledgement goes to the oldest waiter. A waiter that is not
// admitted within --admission-timeout is refused with "server overloaded" (its message was
// not published). The REST publishers do not wait: they answer 503 with Retry-After.
//
// Why a bound on "accepted, not acknowledged": it is the queue whose length becomes
// latency. Without it a slow or absent broker turns into a producer queue of unbounded
// age; with it the excess waits in the clients, or is refused in plain words.
//
// The bound does not see a node that is behind downstream of Kafka (consumers, Redis,
// fan-out: the CPU), where acknowledgements stay fast while delivery falls minutes behind.
// For that the gate also has a rate, steered by the delivery delay the fan-out observes
// (observe_delay: createdAt -> arrival on this node) with --admission-target-delay:
// when the 90th percentile of an interval's delays is above the target (two intervals in a
// row while no limit is set: one slow burst, e.g. a cold start, is no overload), the rate
// drops to 70 % of what was admitted in the last interval; well below it, the rate grows
// by 10 % until the limit is far above the demand and is lifted. A percentile, not the
// maximum: one late delivery (a GC-like pause of one client, a replay) must not refuse
// hundreds of SENDs; an interval with fewer than min_samples deliveries says nothing. SENDs that find no token wait
// like those at the bound; tick() (every few ms, by the gateway) refills the tokens and admits waiters.
//
// Thread-safe. Grants run on the thread that released the slot (a producer delivery
// thread or a session strand): keep them short (post to the waiter's executor).
#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <limits>
#include <mutex>
#include <optional>
#include <vector>

namespace chat::chatd {

struct admission_limits {
  std::size_t max_records = 4000;             // --max-inflight-sends; 0 = no bound
  std::size_t max_bytes = 16 * 1024 * 1024;   // --max-inflight-bytes; 0 = no bound
  std::chrono::milliseconds target_delay{0};  // --admission-target-delay; 0 = no rate control
};

class admission_gate {
 public:
  using ticket = std::uint64_t;
  // Runs once when a waiter was admitted: its slot is taken and must be released.
  using grant = std::function<void()>;

  explicit admission_gate(admission_limits limits = {}) : limits_(limits) {}
  admission_gate(const admission_gate&) = delete;
  admission_gate& operator=(const admission_gate&) = delete;

  using clock = std::chrono::steady_clock;

  // Takes a slot of `bytes` when one is free and nobody waits; true = admitted.
  bool try_admit(std::size_t bytes) {
    std::lock_guard lock(mutex_);
    if (!waiters_.empty() || !fits(bytes)) return false;
    take(bytes);
    return true;
  }

  // A publish refused at once by a caller that does not wait (the REST publishers answer
  // 503): counted with the other refusals (chat_admission_refused_total).
  void count_refused() {
    std::lock_guard lock(mutex_);
    ++refused_;
  }

  // True (and counted as refused) when a new waiter would certainly not be admitted within
  // `budget` at the current rate: the caller refuses at once instead of making the client
  // wait for the refusal.
  bool refuse_hopeless(std::chrono::milliseconds budget) {
    std::lock_guard lock(mutex_);
    if (!limited()) return false;
    const bool hopeless =
        static_cast<double>(waiters_.size() + 1) > rate_ * std::chrono::duration<double>(budget).count() + tokens_;
    if (hopeless) ++refused_;
    return hopeless;
  }

  // The delivery delay of one event seen by the fan-out (any thread, cheap: one relaxed
  // increment, plus a compare-exchange for delays past the histogram).
  void observe_delay(std::chrono::milliseconds delay) noexcept {
    const auto ms = std::max<std::int64_t>(0, delay.count());
    const auto bucket = std::min<std::size_t>(static_cast<std::size_t>(ms / bucket_ms), delay_buckets);
    delays_[bucket].fetch_add(1, std::memory_order_relaxed);
    if (bucket < delay_buckets) return;
    auto seen = max_delay_ms_.load(std::memory_order_relaxed);
    while (ms > seen && !max_delay_ms_.compare_exchange_weak(seen, ms, std::memory_order_relaxed)) {
    }
  }

  // Refills the tokens, steers the rate every adjust_every, admits the waiters that now
  // fit. Call every few milliseconds from one thread.
  void tick(clock::time_point now) {
    std::vector<grant> admitted;
    {
      std::lock_guard lock(mutex_);
      if (last_tick_ == clock::time_point{}) last_tick_ = window_start_ = now;
      const double dt = std::chrono::duration<double>(now - last_tick_).count();
      last_tick_ = now;
      if (limited()) tokens_ = std::min(tokens_ + rate_ * dt, std::max(1.0, rate_ * 0.05));
      if (now - window_start_ >= adjust_every) steer(now);
      while (!waiters_.empty() && fits(waiters_.front().bytes)) {
        take(waiters_.front().bytes);
        admitted.push_back(std::move(waiters_.front().granted));
        waiters_.pop_front();
      }
    }
    for (auto& g : admitted) g();
  }

  static constexpr auto adjust_every = std::chrono::milliseconds(100);
  static constexpr double min_rate = 20;  // records/s: a trickle always gets through
  static constexpr double steer_percentile = 0.9;
  static constexpr std::uint64_t min_samples = 10;  // deliveries per interval that say something

  // Queues a waiter for a slot of `bytes`: `granted` runs once the slot was taken for it.
  // Returns the ticket that cancel() takes. When a slot is free and nobody waits, the
  // grant runs at once, on the caller's thread.
  ticket wait(std::size_t bytes, grant granted) {
    std::unique_lock lock(mutex_);
    const ticket t = next_ticket_++;
    if (waiters_.empty() && fits(bytes)) {
      take(bytes);
      lock.unlock();
      granted();
      return t;
    }
    waiters_.push_back({t, bytes, std::move(granted)});
    ++waited_;
    return t;
  }

  // Withdraws a waiter. True when it was still waiting (no slot taken, its grant never
  // runs); false when it was admitted already (its grant runs or ran: release the slot).
  bool cancel(ticket t) {
    std::lock_guard lock(mutex_);
    for (auto it = waiters_.begin(); it != waiters_.end(); ++it) {
      if (it->id == t) {
        waiters_.erase(it);
        ++refused_;
        return true;
      }
    }
    return false;
  }

  // The log answered a publish of `bytes` (acknowledged or failed): frees its slot and
  // admits the waiters that now fit, oldest first.
  void release(std::size_t bytes) {
    std::vector<grant> admitted;
    {
      std::lock_guard lock(mutex_);
      records_ -= records_ > 0 ? 1 : 0;
      bytes_ -= std::min(bytes_, bytes);
      while (!waiters_.empty() && fits(waiters_.front().bytes)) {
        take(waiters_.front().bytes);
        admitted.push_back(std::move(waiters_.front().granted));
        waiters_.pop_front();
      }
    }
    for (auto& g : admitted) g();
  }

  struct snapshot {
    std::size_t records = 0;
    std::size_t bytes = 0;
    std::size_t waiting = 0;
    std::uint64_t waited = 0;   // waiters queued since start
    std::uint64_t refused = 0;  // refused at once (refuse_hopeless) or withdrawn unadmitted (timed out, gone)
    double rate = 0;            // admissions per second allowed now; 0 = not limited
  };
  snapshot stats() const {
    std::lock_guard lock(mutex_);
    return {records_, bytes_, waiters_.size(), waited_, refused_, limited() ? rate_ : 0.0};
  }

 private:
  struct waiter {
    ticket id;
    std::size_t bytes;
    grant granted;
  };

  bool limited() const noexcept { return std::isfinite(rate_); }

  // A record larger than the byte bound is admitted alone rather than never.
  bool fits(std::size_t bytes) const noexcept {
    if (limited() && tokens_ < 1) return false;
    if (records_ == 0) return true;
    if (limits_.max_records != 0 && records_ >= limits_.max_records) return false;
    return limits_.max_bytes == 0 || bytes_ + bytes <= limits_.max_bytes;
  }
  void take(std::size_t bytes) noexcept {
    ++records_;
    bytes_ += bytes;
    ++admitted_in_window_;
    if (limited()) tokens_ -= 1;
  }

  void steer(clock::time_point now) {
    const double window = std::chrono::duration<double>(now - window_start_).count();
    const double admitted_rate = static_cast<double>(admitted_in_window_) / window;
    window_start_ = now;
    admitted_in_window_ = 0;
    const auto observed = take_delays();
    if (limits_.target_delay.count() == 0) return;
    // A few deliveries say nothing about overload, but all of them on time (or none: the
    // node is idle) still let a limit grow.
    const auto delay = observed.enough ? observed.percentile : observed.max;
    const bool over = observed.enough && delay > limits_.target_delay;
    const bool confirmed = over && (limited() || over_before_);
    over_before_ = over;
    if (confirmed) {
      // Behind: admit less than what was admitted while the delay built up.
      const double base = limited() ? std::min(rate_, admitted_rate) : admitted_rate;
      rate_ = std::max(min_rate, 0.7 * base);
      tokens_ = std::min(tokens_, 1.0);
    } else if (limited() && delay < limits_.target_delay / 2) {
      rate_ = rate_ * 1.1 + min_rate;
      // Far above the demand and nobody waits: no limit at all.
      if (waiters_.empty() && rate_ > 4 * admitted_rate + 1000) rate_ = unlimited;
    }
  }

  struct observed_delays {
    bool enough = false;                      // at least min_samples deliveries
    std::chrono::milliseconds percentile{0};  // steer_percentile of them (upper bucket edge)
    std::chrono::milliseconds max{0};         // the largest (upper bucket edge), 0 for none
  };
  // The delays observed since the last call, which it resets.
  observed_delays take_delays() noexcept {
    std::array<std::uint64_t, delay_buckets + 1> counts{};
    std::uint64_t total = 0;
    for (std::size_t i = 0; i <= delay_buckets; ++i) {
      counts[i] = delays_[i].exchange(0, std::memory_order_relaxed);
      total += counts[i];
    }
    const auto beyond = std::chrono::milliseconds(
        std::max<std::int64_t>(max_delay_ms_.exchange(0, std::memory_order_relaxed), delay_buckets * bucket_ms));
    const auto upper_edge = [&](std::size_t i) {
      return i < delay_buckets ? std::chrono::milliseconds(static_cast<std::int64_t>(i + 1) * bucket_ms) : beyond;
    };
    observed_delays out;
    if (total == 0) return out;
    for (std::size_t i = delay_buckets + 1; i-- > 0;) {
      if (counts[i] != 0) {
        out.max = upper_edge(i);
        break;
      }
    }
    out.enough = total >= min_samples;
    const auto rank = static_cast<std::uint64_t>(std::ceil(steer_percentile * static_cast<double>(total)));
    std::uint64_t seen = 0;
    for (std::size_t i = 0; i <= delay_buckets; ++i) {
      seen += counts[i];
      if (seen >= rank) {
        out.percentile = upper_edge(i);
        break;
      }
    }
    return out;
  }

  static constexpr double unlimited = std::numeric_limits<double>::infinity();
  // Delivery delays in buckets of 8 ms up to about a second (the targets worth defending),
  // one bucket beyond.
  static constexpr std::int64_t bucket_ms = 8;
  static constexpr std::size_t delay_buckets = 128;

  const admission_limits limits_;
  mutable std::mutex mutex_;
  std::size_t records_ = 0;
  std::size_t bytes_ = 0;
  std::deque<waiter> waiters_;
  ticket next_ticket_ = 1;
  std::uint64_t waited_ = 0;
  std::uint64_t refused_ = 0;
  // rate control
  double rate_ = unlimited;
  double tokens_ = 0;
  clock::time_point last_tick_{};
  clock::time_point window_start_{};
  std::uint64_t admitted_in_window_ = 0;
  bool over_before_ = false;  // the last interval's percentile was above the target
  std::array<std::atomic<std::uint64_t>, delay_buckets + 1> delays_{};
  std::atomic<std::int64_t> max_delay_ms_{0};  // largest delay past the histogram
};

}  // namespace chat::chatd
