// The open model's scheduling (its scheduler thread and the runner thread's ticks) with an
// injected clock: an error on either side ends run() with that error, with the scheduler
// thread joined, instead of std::terminate.
#include "open_model.hpp"
#include "run_counters.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <stdexcept>
#include <thread>

using namespace chatload;

namespace {

// Shared by the scheduler thread and the ticking thread: sleeping moves time forward to the
// requested instant (never back), so both make progress without real waiting.
class shared_fake_clock final : public sched_clock {
 public:
  std::int64_t now_ns() override { return now_.load(); }
  void sleep_until_ns(std::int64_t t) override {
    auto cur = now_.load();
    while (cur < t && !now_.compare_exchange_weak(cur, t)) {
    }
    std::this_thread::yield();
  }

 private:
  std::atomic<std::int64_t> now_{1'000'000'000};
};

// Counts each dispatched send as sent, as the runner's strand would.
struct counting_dispatch {
  run_counters& counters;
  std::atomic<std::uint64_t>& dispatched;
  void operator()(std::uint64_t, std::int64_t) const {
    ++dispatched;
    ++counters.sent;
  }
};

}  // namespace

TEST(OpenModel, RunsUntilEveryPlannedSendIsAccountedFor) {
  const plan p{10, 2, 5, 100};  // 100 sends per second
  shared_fake_clock clock;
  run_counters counters;
  std::atomic<std::uint64_t> dispatched{0};
  open_model model(p, 250, clock, counters, counting_dispatch{counters, dispatched});
  int ticks = 0;
  model.run(clock.now_ns(), [&](int n) { ticks = n; });
  EXPECT_EQ(dispatched, 250u);
  EXPECT_GE(ticks, 1);  // a tick at least; how many depends on how far the scheduler thread ran ahead
  EXPECT_EQ(model.scheduler_lag().count(), 250u);
}

TEST(OpenModel, AThrowingDispatchEndsTheRunWithItsError) {
  const plan p{10, 2, 5, 1000};
  shared_fake_clock clock;
  run_counters counters;
  std::atomic<std::uint64_t> dispatched{0};
  open_model model(p, 1'000'000, clock, counters, [&](std::uint64_t g, std::int64_t) {
    if (g == 3) throw std::runtime_error("dispatch failed at send 3");
    ++dispatched;
    ++counters.sent;
  });
  try {
    model.run(clock.now_ns(), [](int) {});
    FAIL() << "run() returned although the dispatch threw";
  } catch (const std::runtime_error& e) {
    EXPECT_STREQ(e.what(), "dispatch failed at send 3");
  }
  EXPECT_EQ(dispatched, 3u);  // nothing after the failure
}

TEST(OpenModel, AThrowingTickStopsAndJoinsTheSchedulerThread) {
  const plan p{10, 2, 5, 1000};
  shared_fake_clock clock;
  run_counters counters;
  std::atomic<std::uint64_t> dispatched{0};
  // An hour of sends: the scheduler thread is still busy when the first tick throws.
  open_model model(p, 3'600'000, clock, counters, counting_dispatch{counters, dispatched});
  EXPECT_THROW(model.run(clock.now_ns(), [](int) { throw std::runtime_error("progress failed"); }), std::runtime_error);
  // run() returned only after the scheduler thread ended: nothing is dispatched any more.
  const auto after = dispatched.load();
  EXPECT_LT(after, 3'600'000u);
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_EQ(dispatched.load(), after);
}
