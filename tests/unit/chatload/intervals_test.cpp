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

namespace {
// One delivery of `ms` milliseconds (and one send) in each second, from `ms_per_second`.
interval_series series_of(std::initializer_list<double> ms_per_second) {
  interval_series s(ms_per_second.size());
  std::int64_t at = 0;
  for (double ms : ms_per_second) {
    for (int i = 0; i < 100; ++i) {
      s.count_sent(at);
      s.record_delivery(at, static_cast<std::uint64_t>(ms * 1e3));
    }
    at += 1'000'000'000;
  }
  return s;
}
}  // namespace

TEST(RecoverySeconds, FromTheEndOfTheOverloadToTheTailWithinTheThreshold) {
  // Overload in seconds 0-3 (ends at 4.0), late until second 6, within 100 ms from second 7 on.
  const auto s = series_of({900, 900, 900, 900, 700, 300, 150, 40, 20, 20});
  EXPECT_EQ(chatload::recovery_seconds(s, 4.0, 100), 3.0);
  // A stricter threshold: only the last two seconds qualify.
  EXPECT_EQ(chatload::recovery_seconds(s, 4.0, 30), 4.0);
  // A spike after the first good second moves the recovery past it.
  const auto spiky = series_of({900, 900, 40, 40, 500, 40, 40});
  EXPECT_EQ(chatload::recovery_seconds(spiky, 2.0, 100), 3.0);
}

TEST(RecoverySeconds, ZeroWhenAlreadyWithinAndNoneWhenNeverBack) {
  EXPECT_EQ(chatload::recovery_seconds(series_of({900, 900, 50, 50}), 2.0, 100), 0.0);
  // The second holding the phase end is within: counted from the phase end, never negative.
  EXPECT_EQ(chatload::recovery_seconds(series_of({900, 50, 50, 50}), 1.5, 100), 0.0);
  EXPECT_FALSE(chatload::recovery_seconds(series_of({900, 900, 50, 150}), 2.0, 100));
  // Nothing after the phase end.
  EXPECT_FALSE(chatload::recovery_seconds(series_of({900, 900}), 2.0, 100));
}

TEST(RecoverySeconds, SentButNothingDeliveredIsNotRecovered) {
  interval_series t(4);
  for (std::int64_t sec = 0; sec < 4; ++sec) t.count_sent(sec * 1'000'000'000);
  t.record_delivery(0, 900'000);
  t.record_delivery(1'000'000'000, 10'000);
  t.record_delivery(2'000'000'000, 10'000);
  // Second 3 sent a message that never arrived: not recovered.
  EXPECT_FALSE(chatload::recovery_seconds(t, 1.0, 100));
  // A second without sends counts neither way.
  interval_series u(4);
  for (std::int64_t sec = 0; sec < 3; ++sec) {
    u.count_sent(sec * 1'000'000'000);
    u.record_delivery(sec * 1'000'000'000, sec == 0 ? 900'000 : 10'000);
  }
  EXPECT_EQ(chatload::recovery_seconds(u, 1.0, 100), 0.0);
}

TEST(IntervalSeries, CountsRefusalsPerSecondAndMergesThem) {
  interval_series a(2), b(2);
  a.count_refused(100);
  b.count_refused(1'200'000'000);
  b.count_refused(1'300'000'000);
  a.merge(b);
  EXPECT_EQ(a[0].refused, 1u);
  EXPECT_EQ(a[1].refused, 2u);
}
