// --phases: parsing, the send plan it makes (rates one after the other after the ramp), and
// the measured window's phases.
#include "accounting.hpp"
#include "phases.hpp"
#include "runner.hpp"

#include <gtest/gtest.h>

#include <cmath>

using namespace chatload;

TEST(Phases, ParsesRateTimesSecondsLists) {
  std::string why;
  const auto p = parse_phases("3000x60, 500.5X20 ,1x0.5", why);
  ASSERT_TRUE(p) << why;
  ASSERT_EQ(p->size(), 3u);
  EXPECT_EQ((*p)[0].rate, 3000);
  EXPECT_EQ((*p)[0].seconds, 60);
  EXPECT_EQ((*p)[1].rate, 500.5);
  EXPECT_EQ((*p)[1].seconds, 20);
  EXPECT_EQ((*p)[2].seconds, 0.5);
}

TEST(Phases, RefusesMalformedItems) {
  for (const char* bad : {"", " ", "3000", "3000x", "x60", "3000x60,", "0x60", "3000x0", "-5x10", "3000x60s", "3000*60",
                          "abcx10", "3000x60,500"}) {
    std::string why;
    EXPECT_FALSE(parse_phases(bad, why)) << bad;
    EXPECT_FALSE(why.empty()) << bad;
  }
}

TEST(Phases, PlanFollowsTheSegmentsAfterTheRamp) {
  // 100/s for 2 s, then 10/s for 3 s, then 10/s for good.
  plan p{10, 2, 5, 100, 0, {{100, 2}, {10, 3}}};
  EXPECT_EQ(p.sends_in(2), 200u);
  EXPECT_EQ(p.sends_in(5), 230u);
  EXPECT_EQ(p.sends_in(6), 240u);  // the last rate goes on
  EXPECT_EQ(p.planned_offset_ns(0), 0);
  EXPECT_EQ(p.planned_offset_ns(100), 1'000'000'000);
  EXPECT_EQ(p.planned_offset_ns(200), 2'000'000'000);
  EXPECT_EQ(p.planned_offset_ns(210), 3'000'000'000);
  EXPECT_EQ(p.planned_offset_ns(235), 5'500'000'000);
  // Every send is planned inside the interval that sends_in counts it in.
  for (std::uint64_t g = 0; g < 240; ++g) {
    const double t = static_cast<double>(p.planned_offset_ns(g)) / 1e9;
    EXPECT_LE(p.sends_in(t), g) << g;
    EXPECT_GT(p.sends_in(t + 1e-6), g) << g;
  }
}

TEST(Phases, PlanWithARampGrowsToTheFirstRate) {
  // Ramp of 2 s to 100/s (100 sends), then 300/s for 1 s, then 50/s.
  plan p{10, 2, 5, 100, 2, {{300, 1}, {50, 4}}};
  EXPECT_EQ(p.sends_in(2), 100u);
  EXPECT_EQ(p.sends_in(3), 400u);
  EXPECT_EQ(p.sends_in(5), 500u);
  EXPECT_EQ(p.planned_offset_ns(50), static_cast<std::int64_t>(std::sqrt(2.0) * 1e9));
  EXPECT_EQ(p.planned_offset_ns(250), 2'500'000'000);
  EXPECT_EQ(p.planned_offset_ns(450), 4'000'000'000);
  // Without segments the plan is the constant rate of before.
  plan q{10, 2, 5, 100, 2};
  EXPECT_EQ(q.sends_in(3), 200u);
  EXPECT_EQ(q.planned_offset_ns(150), 2'500'000'000);
}

TEST(Phases, MeasuredPhasesDefaultToTheRateForTheDuration) {
  run_options o;
  o.rate = 250;
  o.duration = std::chrono::milliseconds(7500);
  auto m = measured_phases(o);
  ASSERT_EQ(m.size(), 1u);
  EXPECT_EQ(m[0].rate, 250);
  EXPECT_EQ(m[0].seconds, 7.5);
  o.phases = {{900, 60}, {100, 20}};
  m = measured_phases(o);
  ASSERT_EQ(m.size(), 2u);
  EXPECT_EQ(m[1].rate, 100);
}
