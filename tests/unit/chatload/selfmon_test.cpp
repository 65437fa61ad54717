#include "selfmon.hpp"

#include <gtest/gtest.h>

using namespace chatload;

namespace {
generator_stats healthy() {
  generator_stats g;
  for (int i = 0; i < 1000; ++i) g.send_lag.record(200);  // 0.2 ms
  g.cpu_user_s = 3;
  g.cpu_system_s = 1;
  g.wall_s = 10;  // 0.4 cores
  g.usable_cores = 2;
  g.planned = 1000;
  return g;
}
}  // namespace

TEST(SelfMonitor, HealthyRunIsValid) {
  const auto v = assess(healthy(), selfmon_bounds{});
  EXPECT_TRUE(v.valid);
  EXPECT_TRUE(v.reasons.empty());
  EXPECT_DOUBLE_EQ(healthy().cpu_cores(), 0.4);
}

TEST(SelfMonitor, LagBeyondBound) {
  auto g = healthy();
  for (int i = 0; i < 20; ++i) g.send_lag.record(80'000);  // 2 % of sends 80 ms late: the p99
  const auto v = assess(g, selfmon_bounds{.max_lag_p99_ms = 50});
  EXPECT_FALSE(v.valid);
  ASSERT_EQ(v.reasons.size(), 1u);
  EXPECT_NE(v.reasons[0].find("lag"), std::string::npos);
  EXPECT_TRUE(assess(g, selfmon_bounds{.max_lag_p99_ms = 100}).valid);
}

TEST(SelfMonitor, CpuBeyondBound) {
  auto g = healthy();
  g.cpu_user_s = 17;  // 1.8 cores of 2
  EXPECT_TRUE(assess(g, selfmon_bounds{.max_cpu_fraction = 0.95}).valid);
  const auto v = assess(g, selfmon_bounds{.max_cpu_fraction = 0.85});
  EXPECT_FALSE(v.valid);
  EXPECT_NE(v.reasons.at(0).find("CPU"), std::string::npos);
  EXPECT_FALSE(assess(healthy(), selfmon_bounds{.max_cpu_fraction = 0.0001}).valid);
}

TEST(SelfMonitor, DroppedSendsBeyondBound) {
  auto g = healthy();
  g.dropped_sends = 10;  // 1 %
  EXPECT_TRUE(assess(g, selfmon_bounds{.max_dropped_fraction = 0.01}).valid);
  g.dropped_sends = 11;
  EXPECT_FALSE(assess(g, selfmon_bounds{.max_dropped_fraction = 0.01}).valid);
}

TEST(SelfMonitor, EveryExceededBoundIsReported) {
  auto g = healthy();
  for (int i = 0; i < 100; ++i) g.send_lag.record(900'000);
  g.cpu_user_s = 100;
  g.dropped_sends = 500;
  EXPECT_EQ(assess(g, selfmon_bounds{}).reasons.size(), 3u);
}

TEST(SelfMonitor, ProcessCpuIsMeasured) {
  const auto a = process_cpu_times();
  volatile double x = 0;
  // Burn some CPU: a bounded loop, not a timing assertion.
  for (int i = 0; i < 20'000'000; ++i) x = x + 1.0;
  const auto b = process_cpu_times();
  EXPECT_GE(b.user_s + b.system_s, a.user_s + a.system_s);
  EXPECT_GE(available_cpus(), 1u);
}
