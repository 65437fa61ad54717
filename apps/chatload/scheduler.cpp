#include "scheduler.hpp"

#include <algorithm>
#include <chrono>
#include <thread>

namespace chatload {

namespace {
class steady_clock_impl final : public sched_clock {
 public:
  std::int64_t now_ns() override { return steady_now_ns(); }
  // Sleeps in slices of at most 50 ms, so that a stop request ends a long wait (slow rates).
  void sleep_until_ns(std::int64_t t) override {
    const auto wait = std::min<std::int64_t>(t - now_ns(), 50'000'000);
    if (wait > 0) std::this_thread::sleep_for(std::chrono::nanoseconds(wait));
  }
};
}  // namespace

std::int64_t steady_now_ns() noexcept {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

sched_clock& steady_sched_clock() {
  static steady_clock_impl c;
  return c;
}

std::uint64_t send_scheduler::run(std::int64_t t0, const std::atomic<bool>& stop, const dispatch_fn& dispatch) {
  std::uint64_t g = 0;
  for (; g < planned_ && !stop.load(std::memory_order_relaxed); ++g) {
    const std::int64_t due = t0 + plan_.planned_offset_ns(g);
    std::int64_t now = clock_.now_ns();
    while (now < due && !stop.load(std::memory_order_relaxed)) {
      clock_.sleep_until_ns(due);
      now = clock_.now_ns();
    }
    if (now < due) break;  // stopped while waiting
    lag_.record(now > due ? static_cast<std::uint64_t>((now - due) / 1000) : 0);
    dispatch(g, due);
  }
  return g;
}

}  // namespace chatload
