#pragma once
// Bounds how many lines a flood can make a node write. Per-session events (an ERROR sent, a
// session aborted) are logged from the I/O threads, one synchronous write each; thousands of
// bad connections a second would turn the log into the bottleneck of every session. A
// throttle admits at most `per_second` lines in each second and counts the rest; the next
// admitted line reports how many were left out. Lock-free, approximate at the edge of a
// second (two threads may both open a new window); any thread.
#include <atomic>
#include <cstdint>

namespace chat::gateway {

class log_throttle {
 public:
  explicit log_throttle(std::uint32_t per_second) noexcept : per_second_(per_second) {}

  // `now_s`: any monotonic clock, in whole seconds. Returns -1 when this line is to be left
  // out; otherwise the number of lines left out since the last admitted one (0 usually).
  std::int64_t admit(std::int64_t now_s) noexcept {
    auto window = window_.load(std::memory_order_relaxed);
    if (now_s != window && window_.compare_exchange_strong(window, now_s, std::memory_order_relaxed)) {
      in_window_.store(0, std::memory_order_relaxed);
    }
    if (in_window_.fetch_add(1, std::memory_order_relaxed) < per_second_) {
      return static_cast<std::int64_t>(suppressed_.exchange(0, std::memory_order_relaxed));
    }
    suppressed_.fetch_add(1, std::memory_order_relaxed);
    return -1;
  }

 private:
  const std::uint32_t per_second_;
  std::atomic<std::int64_t> window_{-1};
  std::atomic<std::uint32_t> in_window_{0};
  std::atomic<std::uint64_t> suppressed_{0};
};

}  // namespace chat::gateway
