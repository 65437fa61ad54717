#pragma once
// The open-model scheduler: issues send g at t0 + plan.planned_offset_ns(g), whatever happened
// to earlier sends, and records how late it issued each one (its own scheduling lag). The
// clock is injected so tests drive it without sleeping.
#include "accounting.hpp"
#include "histogram.hpp"

#include <atomic>
#include <cstdint>
#include <functional>

namespace chatload {

// Time source of the scheduler (steady clock in production). sleep_until may return early or
// late; the scheduler re-reads now_ns() afterwards.
class sched_clock {
 public:
  virtual ~sched_clock() = default;
  virtual std::int64_t now_ns() = 0;
  virtual void sleep_until_ns(std::int64_t t) = 0;
};

// std::chrono::steady_clock and std::this_thread::sleep_for.
sched_clock& steady_sched_clock();
// std::chrono::steady_clock::now() in ns since its epoch: the time base of planned send times.
std::int64_t steady_now_ns() noexcept;
// A duration in ns as whole microseconds, the histograms' unit (negative -> 0).
inline std::uint64_t to_us(std::int64_t ns) noexcept { return ns <= 0 ? 0 : static_cast<std::uint64_t>(ns / 1000); }

class send_scheduler {
 public:
  // `dispatch(g, planned_ns)` hands send g to its session; planned_ns is absolute (clock time).
  using dispatch_fn = std::function<void(std::uint64_t g, std::int64_t planned_ns)>;

  send_scheduler(const plan& p, std::uint64_t planned_sends, sched_clock& clock)
      : plan_(p), planned_(planned_sends), clock_(clock) {}

  // Runs on the calling thread until every send was dispatched or `stop` became true.
  // Returns how many were dispatched.
  std::uint64_t run(std::int64_t t0_ns, const std::atomic<bool>& stop, const dispatch_fn& dispatch);

  // µs between each send's planned time and its dispatch.
  const histogram& lag() const noexcept { return lag_; }

 private:
  plan plan_;
  std::uint64_t planned_;
  sched_clock& clock_;
  histogram lag_;
};

}  // namespace chatload
