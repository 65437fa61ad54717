#include "intervals.hpp"

#include <gtest/gtest.h>

using chatload::interval_series;

TEST(IntervalSeries, RecordsBySecondOfPlannedTime) {
  interval_series s(3);
  s.count_sent(0);
  s.count_sent(999'999'999);
  s.count_sent(1'000'000'000);
  s.record_delivery(500'000'000, 1'000);     // second 0, 1 ms
  s.record_delivery(1'500'000'000, 80'000);  // second 1, 80 ms
  s.record_delivery(-5, 2'000);              // before the start: second 0
  s.record_delivery(9'000'000'000, 3'000);   // past the end: the last second
  s.record_receipt(2'100'000'000, 4'000);
  ASSERT_EQ(s.size(), 3u);
  EXPECT_EQ(s[0].sent, 2u);
  EXPECT_EQ(s[1].sent, 1u);
  EXPECT_EQ(s[0].delivery.count(), 2u);
  EXPECT_EQ(s[0].delivery.max(), 2'000u);
  EXPECT_EQ(s[1].over_50ms, 1u);
  EXPECT_EQ(s[0].over_50ms, 0u);
  EXPECT_EQ(s[2].delivery.count(), 1u);
  EXPECT_EQ(s[2].receipt.count(), 1u);
}

TEST(IntervalSeries, MergeAddsPerSecond) {
  interval_series a(2), b(2), all(2);
  for (std::uint64_t i = 0; i < 1000; ++i) {
    const std::int64_t at = static_cast<std::int64_t>(i % 2) * 1'000'000'000 + 1;
    const std::uint64_t us = (i * 7919) % 100'000 + 1;
    (i % 3 ? a : b).record_delivery(at, us);
    all.record_delivery(at, us);
  }
  a.merge(b);
  for (std::size_t sec = 0; sec < 2; ++sec) {
    EXPECT_EQ(a[sec].delivery.count(), all[sec].delivery.count());
    EXPECT_EQ(a[sec].over_50ms, all[sec].over_50ms);
    for (double p : {50.0, 90.0, 99.0, 100.0})
      EXPECT_EQ(a[sec].delivery.percentile(p), all[sec].delivery.percentile(p));
  }
}

TEST(IntervalSeries, NeverEmpty) {
  interval_series s(0);
  s.record_delivery(0, 1);  // would index an empty vector
  EXPECT_EQ(s.size(), 1u);
  EXPECT_EQ(s[0].delivery.count(), 1u);
}
