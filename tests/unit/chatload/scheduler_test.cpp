#include "scheduler.hpp"

#include <gtest/gtest.h>

#include <vector>

using namespace chatload;

namespace {
// A clock that only moves when the scheduler sleeps (to exactly the requested time, plus an
// optional stall injected before a given send).
class fake_clock final : public sched_clock {
 public:
  std::int64_t now = 1'000'000'000;
  std::int64_t stall_ns = 0;  // added once, the first time the scheduler sleeps after `stall_at`
  std::int64_t stall_at = -1;
  std::int64_t now_ns() override { return now; }
  void sleep_until_ns(std::int64_t t) override {
    if (t > now) now = t;
    if (stall_at >= 0 && now >= stall_at && stall_ns > 0) {
      now += stall_ns;
      stall_ns = 0;
    }
    ++sleeps;
  }
  int sleeps = 0;
};

struct dispatched {
  std::uint64_t g;
  std::int64_t planned;
  std::int64_t at;
};
}  // namespace

TEST(Scheduler, IssuesEachSendAtItsPlannedTimeWithRamp) {
  const plan p{10, 2, 5, 100, 2.0};  // 100/s after a 2 s ramp
  fake_clock clock;
  const std::uint64_t n = p.sends_in(4.0);  // 100 during the ramp + 200
  ASSERT_EQ(n, 300u);
  send_scheduler sched(p, n, clock);
  std::vector<dispatched> got;
  std::atomic<bool> stop{false};
  const std::int64_t t0 = clock.now + 5'000'000;
  EXPECT_EQ(sched.run(t0, stop,
                      [&](std::uint64_t g, std::int64_t planned) {
                        got.push_back({g, planned, clock.now});
                      }),
            n);
  ASSERT_EQ(got.size(), n);
  for (std::uint64_t g = 0; g < n; ++g) {
    EXPECT_EQ(got[g].g, g);
    EXPECT_EQ(got[g].planned, t0 + p.planned_offset_ns(g));
    EXPECT_EQ(got[g].at, got[g].planned);  // never early, never late on a perfect clock
  }
  // The ramp: in its first second a quarter of its sends, then the rest.
  std::uint64_t first_second = 0;
  for (const auto& d : got) first_second += d.at - t0 < 1'000'000'000;
  EXPECT_EQ(first_second, 25u);
  EXPECT_EQ(sched.lag().max(), 0u);
  EXPECT_EQ(sched.lag().count(), n);
}

TEST(Scheduler, AStallIsMeasuredAsLagAndSendsAreNotSkipped) {
  const plan p{10, 1, 1, 1000};  // one send per ms
  fake_clock clock;
  const std::int64_t t0 = clock.now;
  clock.stall_at = t0 + 10'000'000;  // at the 11th send the thread stalls for 50 ms
  clock.stall_ns = 50'000'000;
  send_scheduler sched(p, 100, clock);
  std::vector<dispatched> got;
  std::atomic<bool> stop{false};
  sched.run(t0, stop, [&](std::uint64_t g, std::int64_t planned) { got.push_back({g, planned, clock.now}); });
  ASSERT_EQ(got.size(), 100u);
  EXPECT_EQ(got[10].at - got[10].planned, 50'000'000);
  // The sends planned during the stall go out at once, late, each keeping its planned time.
  EXPECT_EQ(got[30].at, got[10].at);
  EXPECT_EQ(got[30].planned, t0 + 30'000'000);
  EXPECT_EQ(got[61].at, got[61].planned);  // caught up
  EXPECT_EQ(sched.lag().max(), 50'000u);
  EXPECT_GE(sched.lag().percentile(50), 0u);
}

TEST(Scheduler, StopEndsTheRun) {
  const plan p{10, 1, 1, 100};
  fake_clock clock;
  send_scheduler sched(p, 1000, clock);
  std::atomic<bool> stop{false};
  std::uint64_t count = 0;
  const auto done = sched.run(clock.now, stop, [&](std::uint64_t, std::int64_t) {
    if (++count == 7) stop = true;
  });
  EXPECT_EQ(done, 7u);
}
