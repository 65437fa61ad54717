// Admission control (core/admission_gate.hpp): the in-flight bound, FIFO waiters, and the
// rate steered by the delivery delay.
#include "core/admission_gate.hpp"

#include <gtest/gtest.h>

#include <vector>

using namespace std::chrono_literals;

namespace chat::chatd {
namespace {

using clock = admission_gate::clock;

TEST(admission_gate, records_past_the_bound_wait_and_are_admitted_oldest_first) {
  admission_gate gate({2, 0});
  EXPECT_TRUE(gate.try_admit(10));
  EXPECT_TRUE(gate.try_admit(10));
  EXPECT_FALSE(gate.try_admit(10));
  std::vector<int> order;
  gate.wait(10, [&] { order.push_back(1); });
  gate.wait(10, [&] { order.push_back(2); });
  EXPECT_FALSE(gate.try_admit(1)) << "nobody overtakes a waiter";
  EXPECT_EQ(gate.stats().waiting, 2u);
  gate.release(10);
  EXPECT_EQ(order, std::vector<int>{1});
  gate.release(10);
  EXPECT_EQ(order, (std::vector<int>{1, 2}));
  EXPECT_EQ(gate.stats().records, 2u);
  EXPECT_EQ(gate.stats().waited, 2u);
}

TEST(admission_gate, the_byte_bound_and_a_record_larger_than_it) {
  admission_gate gate({0, 100});
  EXPECT_TRUE(gate.try_admit(60));
  EXPECT_FALSE(gate.try_admit(60));
  gate.release(60);
  EXPECT_TRUE(gate.try_admit(500)) << "alone, a record larger than the bound still goes";
  EXPECT_FALSE(gate.try_admit(1));
  gate.release(500);
  EXPECT_EQ(gate.stats().bytes, 0u);
}

TEST(admission_gate, a_waiter_is_granted_at_once_when_there_is_room) {
  admission_gate gate({1, 0});
  bool granted = false;
  gate.wait(1, [&] { granted = true; });
  EXPECT_TRUE(granted);
  EXPECT_EQ(gate.stats().records, 1u);
}

TEST(admission_gate, cancel_withdraws_a_waiter_but_not_a_grant) {
  admission_gate gate({1, 0});
  ASSERT_TRUE(gate.try_admit(1));
  bool granted = false;
  const auto waiting = gate.wait(1, [&] { granted = true; });
  EXPECT_TRUE(gate.cancel(waiting));
  gate.release(1);
  EXPECT_FALSE(granted);
  EXPECT_EQ(gate.stats().refused, 1u);
  const auto admitted = gate.wait(1, [&] { granted = true; });
  EXPECT_TRUE(granted);
  EXPECT_FALSE(gate.cancel(admitted)) << "already admitted: the caller releases its slot";
}

TEST(admission_gate, no_rate_control_without_a_target) {
  admission_gate gate({0, 0, 0ms});
  const auto t0 = clock::now();
  gate.tick(t0);
  gate.observe_delay(5s);
  gate.tick(t0 + 200ms);
  EXPECT_EQ(gate.stats().rate, 0.0);
  EXPECT_TRUE(gate.try_admit(1));
}

// Delays as the fan-out reports them: `n` deliveries of `delay` each.
void observe(admission_gate& gate, std::chrono::milliseconds delay, int n = 20) {
  for (int i = 0; i < n; ++i) gate.observe_delay(delay);
}

TEST(admission_gate, a_delay_past_the_target_limits_the_rate_below_what_was_admitted) {
  admission_gate gate({0, 0, 100ms});
  auto t0 = clock::now();
  gate.tick(t0);
  for (int i = 0; i < 100; ++i) ASSERT_TRUE(gate.try_admit(1));
  observe(gate, 400ms);
  gate.tick(t0 + 100ms);
  EXPECT_EQ(gate.stats().rate, 0.0) << "one interval over the target is not yet overload";
  for (int i = 0; i < 100; ++i) ASSERT_TRUE(gate.try_admit(1));  // 1000/s over the window
  observe(gate, 400ms);
  t0 += 100ms;
  gate.tick(t0 + 100ms);
  EXPECT_DOUBLE_EQ(gate.stats().rate, 700.0);
  // Tokens come with time: 7 per 10 ms at 700/s.
  int admitted = 0;
  while (gate.try_admit(1)) ++admitted;
  EXPECT_LE(admitted, 1);
  gate.tick(t0 + 110ms);
  admitted = 0;
  while (gate.try_admit(1)) ++admitted;
  EXPECT_GE(admitted, 6);
  EXPECT_LE(admitted, 8);
  // Waiters are admitted by the ticks as tokens come.
  int granted = 0;
  for (int i = 0; i < 20; ++i) gate.wait(1, [&] { ++granted; });
  EXPECT_EQ(granted, 0);
  gate.tick(t0 + 120ms);
  EXPECT_GE(granted, 6);
  EXPECT_LE(granted, 8);
  // 20 waiters at 700/s: admitted within a second, not hopeless; thousands would be.
  EXPECT_FALSE(gate.refuse_hopeless(1s));
  for (int i = 0; i < 2000; ++i) gate.wait(1, [] {});
  EXPECT_TRUE(gate.refuse_hopeless(1s));
  EXPECT_EQ(gate.stats().refused, 1u);
}

TEST(admission_gate, a_few_late_deliveries_do_not_limit_the_rate) {
  admission_gate gate({0, 0, 100ms});
  auto t = clock::now();
  gate.tick(t);
  for (int step = 0; step < 5; ++step) {
    for (int i = 0; i < 100; ++i) ASSERT_TRUE(gate.try_admit(1));
    // 5 % of the deliveries late (one slow client, a cold start): the 90th percentile is
    // on time.
    observe(gate, 10ms, 95);
    observe(gate, 2s, 5);
    t += 100ms;
    gate.tick(t);
    EXPECT_EQ(gate.stats().rate, 0.0) << "step " << step;
  }
  // Too few deliveries to say anything, however late.
  observe(gate, 5s, static_cast<int>(admission_gate::min_samples) - 1);
  t += 100ms;
  gate.tick(t);
  observe(gate, 5s, static_cast<int>(admission_gate::min_samples) - 1);
  t += 100ms;
  gate.tick(t);
  EXPECT_EQ(gate.stats().rate, 0.0);
}

TEST(admission_gate, one_late_interval_between_good_ones_is_not_overload) {
  admission_gate gate({0, 0, 100ms});
  auto t = clock::now();
  gate.tick(t);
  for (int step = 0; step < 6; ++step) {
    observe(gate, step % 2 == 0 ? 500ms : 20ms);
    t += 100ms;
    gate.tick(t);
    EXPECT_EQ(gate.stats().rate, 0.0) << "step " << step;
  }
  // The percentile, not the mean: 89 % on time and 11 % late is late.
  for (int step = 0; step < 2; ++step) {
    for (int i = 0; i < 100; ++i) ASSERT_TRUE(gate.try_admit(1));
    observe(gate, 10ms, 89);
    observe(gate, 900ms, 11);
    t += 100ms;
    gate.tick(t);
  }
  EXPECT_DOUBLE_EQ(gate.stats().rate, 700.0);
}

TEST(admission_gate, delays_past_the_histogram_still_limit) {
  admission_gate gate({0, 0, 2s});
  auto t = clock::now();
  gate.tick(t);
  for (int step = 0; step < 2; ++step) {
    for (int i = 0; i < 10; ++i) ASSERT_TRUE(gate.try_admit(1));
    observe(gate, 3s);
    t += 100ms;
    gate.tick(t);
  }
  EXPECT_DOUBLE_EQ(gate.stats().rate, 70.0);
}

TEST(admission_gate, the_rate_never_falls_below_the_floor) {
  admission_gate gate({0, 0, 100ms});
  auto t = clock::now();
  gate.tick(t);
  for (int step = 0; step < 2; ++step) {
    observe(gate, 1s);
    t += 100ms;
    gate.tick(t);
  }
  EXPECT_DOUBLE_EQ(gate.stats().rate, admission_gate::min_rate);
}

TEST(admission_gate, the_rate_recovers_and_the_limit_is_lifted_when_delivery_catches_up) {
  admission_gate gate({0, 0, 100ms});
  auto t = clock::now();
  gate.tick(t);
  for (int step = 0; step < 2; ++step) {
    for (int i = 0; i < 10; ++i) ASSERT_TRUE(gate.try_admit(1));
    observe(gate, 1s);
    t += 100ms;
    gate.tick(t);
  }
  const double limited = gate.stats().rate;
  ASSERT_DOUBLE_EQ(limited, 70.0) << "70 % of the 100/s admitted";
  double last = limited;
  bool lifted = false;
  for (int step = 0; step < 200 && !lifted; ++step) {
    observe(gate, 10ms);
    t += 100ms;
    gate.tick(t);
    const double rate = gate.stats().rate;
    if (rate == 0) {
      lifted = true;
    } else {
      EXPECT_GT(rate, last);
      last = rate;
    }
  }
  EXPECT_TRUE(lifted);
  EXPECT_TRUE(gate.try_admit(1));
}

TEST(admission_gate, an_idle_node_lifts_its_limit_but_a_few_late_deliveries_hold_it) {
  admission_gate gate({0, 0, 100ms});
  auto t = clock::now();
  gate.tick(t);
  for (int step = 0; step < 2; ++step) {
    observe(gate, 1s);
    t += 100ms;
    gate.tick(t);
  }
  ASSERT_DOUBLE_EQ(gate.stats().rate, admission_gate::min_rate);
  // A few late deliveries: not enough to cut further, too late to grow.
  observe(gate, 1s, 3);
  t += 100ms;
  gate.tick(t);
  EXPECT_DOUBLE_EQ(gate.stats().rate, admission_gate::min_rate);
  // Nothing delivered at all: nothing is late.
  bool lifted = false;
  for (int step = 0; step < 200 && !lifted; ++step) {
    t += 100ms;
    gate.tick(t);
    lifted = gate.stats().rate == 0;
  }
  EXPECT_TRUE(lifted);
}

}  // namespace
}  // namespace chat::chatd
