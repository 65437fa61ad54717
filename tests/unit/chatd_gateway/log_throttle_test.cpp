#include "gateway/log_throttle.hpp"

#include <gtest/gtest.h>

namespace chat::gateway {
namespace {

TEST(log_throttle, admits_the_first_lines_of_each_second_and_counts_the_rest) {
  log_throttle t(3);
  EXPECT_EQ(t.admit(100), 0);
  EXPECT_EQ(t.admit(100), 0);
  EXPECT_EQ(t.admit(100), 0);
  for (int i = 0; i < 7; ++i) EXPECT_EQ(t.admit(100), -1);
  // The next second: its first line says how many were left out, then the count restarts.
  EXPECT_EQ(t.admit(101), 7);
  EXPECT_EQ(t.admit(101), 0);
  EXPECT_EQ(t.admit(101), 0);
  EXPECT_EQ(t.admit(101), -1);
  EXPECT_EQ(t.admit(250), 1);
}

TEST(log_throttle, bounds_a_flood_to_its_rate) {
  log_throttle t(50);
  std::int64_t admitted = 0, reported = 0;
  for (int second = 0; second < 10; ++second) {
    for (int i = 0; i < 10'000; ++i) {
      const auto r = t.admit(second);
      if (r >= 0) {
        ++admitted;
        reported += r;
      }
    }
  }
  EXPECT_EQ(admitted, 500);
  EXPECT_EQ(reported, 9 * (10'000 - 50));  // the last second's are reported later
}

}  // namespace
}  // namespace chat::gateway
