#include "histogram.hpp"

#include <gtest/gtest.h>

#include <cmath>

using chatload::histogram;

TEST(Histogram, EmptyIsZero) {
  histogram h;
  EXPECT_EQ(h.count(), 0u);
  EXPECT_EQ(h.percentile(99), 0u);
  EXPECT_EQ(h.max(), 0u);
}

TEST(Histogram, ExactBelow256us) {
  histogram h;
  for (std::uint64_t v = 1; v <= 100; ++v) h.record(v);
  EXPECT_EQ(h.percentile(50), 50u);
  EXPECT_EQ(h.percentile(90), 90u);
  EXPECT_EQ(h.percentile(99), 99u);
  EXPECT_EQ(h.percentile(100), 100u);
  EXPECT_EQ(h.min(), 1u);
  EXPECT_DOUBLE_EQ(h.mean(), 50.5);
}

TEST(Histogram, TwoSignificantDigitsAcrossRange) {
  // Every value maps to a bucket whose highest equivalent is >= the value and within 1%.
  for (std::uint64_t v = 1; v <= histogram::max_trackable_us; v = v * 3 / 2 + 1) {
    const auto hi = histogram::highest_equivalent(histogram::index_of(v));
    EXPECT_GE(hi, v) << v;
    EXPECT_LE(static_cast<double>(hi - v), 0.01 * static_cast<double>(v) + 1) << v;
  }
  EXPECT_LT(histogram::index_of(histogram::max_trackable_us), histogram::bucket_count);
}

TEST(Histogram, PercentilesOfUniformMilliseconds) {
  histogram h;
  for (std::uint64_t ms = 1; ms <= 1000; ++ms) h.record(ms * 1000);
  EXPECT_NEAR(static_cast<double>(h.percentile(50)), 500'000, 5'000);
  EXPECT_NEAR(static_cast<double>(h.percentile(99)), 990'000, 9'900);
  EXPECT_NEAR(static_cast<double>(h.percentile(99.9)), 999'000, 9'990);
  EXPECT_EQ(h.percentile(100), 1'000'000u);  // capped by the exact max
  EXPECT_EQ(h.max(), 1'000'000u);
}

TEST(Histogram, MergeEqualsRecordingEverything) {
  histogram a, b, all;
  for (std::uint64_t v = 0; v < 5000; ++v) {
    const std::uint64_t x = (v * 7919) % 200'000 + 1;
    (v % 3 ? a : b).record(x);
    all.record(x);
  }
  a.merge(b);
  EXPECT_EQ(a.count(), all.count());
  EXPECT_EQ(a.min(), all.min());
  EXPECT_EQ(a.max(), all.max());
  for (double p : {1.0, 50.0, 90.0, 99.0, 99.9, 100.0}) EXPECT_EQ(a.percentile(p), all.percentile(p)) << p;
}

TEST(Histogram, ClampsHugeValues) {
  histogram h;
  h.record(histogram::max_trackable_us * 10);
  EXPECT_EQ(h.clamped(), 1u);
  EXPECT_EQ(h.max(), histogram::max_trackable_us);
}

TEST(IntervalHistogram, CompactWithinSixPercent) {
  using chatload::interval_histogram;
  EXPECT_EQ(interval_histogram::bucket_count, 368u);
  for (std::uint64_t v = 1; v <= interval_histogram::max_trackable_us; v = v * 5 / 4 + 1) {
    const auto i = interval_histogram::index_of(v);
    ASSERT_LT(i, interval_histogram::bucket_count);
    EXPECT_LE(interval_histogram::lowest_equivalent(i), v) << v;
    EXPECT_GE(interval_histogram::highest_equivalent(i), v) << v;
    EXPECT_LE(static_cast<double>(interval_histogram::highest_equivalent(i) - v), 0.0625 * static_cast<double>(v) + 1)
        << v;
  }
}

TEST(Histogram, StddevOfBuckets) {
  histogram h;
  for (int i = 0; i < 50; ++i) {
    h.record(100);
    h.record(200);
  }
  EXPECT_DOUBLE_EQ(h.mean(), 150);
  EXPECT_DOUBLE_EQ(h.stddev(), 50);  // exact buckets below 256 µs
  h.reset();
  EXPECT_EQ(h.count(), 0u);
  EXPECT_EQ(h.stddev(), 0);
}
