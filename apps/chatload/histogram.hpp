#pragma once
// Log-linear latency histograms in the manner of HdrHistogram: values (microseconds) from 1 µs
// to 60 s. `histogram` keeps two significant digits (exact below 256 µs, then 128 buckets per
// power of two: 2,560 counters, 20 KiB); `interval_histogram` is the compact kind kept once per
// second of a run (16 buckets per power of two, ≤ 6.25 % error, 368 counters, 3 KiB).
// Fixed size, no allocation after construction, mergeable by adding counters (same kind only).
// Not thread-safe: one per thread, merged at the end.
#include <array>
#include <cstddef>
#include <cstdint>

namespace chatload {

template <int SubBucketBits>
class basic_histogram {
 public:
  static constexpr std::uint64_t max_trackable_us = 60'000'000;  // larger values are clamped
  static constexpr int sub_bucket_bits = SubBucketBits;
  static constexpr std::uint64_t sub_bucket_count = std::uint64_t{1} << SubBucketBits;
  // 60e6 needs 26 bits: exact up to sub_bucket_count, then sub_bucket_count/2 per octave.
  static constexpr std::size_t bucket_count = sub_bucket_count + (26 - SubBucketBits) * (sub_bucket_count / 2);

  void record(std::uint64_t value_us) noexcept;
  void merge(const basic_histogram& other) noexcept;
  void reset() noexcept { *this = basic_histogram{}; }

  std::uint64_t count() const noexcept { return total_; }
  std::uint64_t min() const noexcept { return total_ ? min_ : 0; }
  std::uint64_t max() const noexcept { return max_; }  // exact (unclamped up to max_trackable_us)
  double mean() const noexcept { return total_ ? static_cast<double>(sum_) / static_cast<double>(total_) : 0.0; }
  // Standard deviation of the bucket values (as HdrHistogram computes it), 0 when empty.
  double stddev() const noexcept;
  // The smallest bucket's upper bound at or below which `pct` percent of the values lie, capped
  // by the exact maximum; 0 when empty. pct in [0, 100].
  std::uint64_t percentile(double pct) const noexcept;
  // Values that were above max_trackable_us (recorded as max_trackable_us).
  std::uint64_t clamped() const noexcept { return clamped_; }
  // Count in one bucket, for iteration (hgrm output).
  std::uint64_t count_at(std::size_t index) const noexcept { return counts_[index]; }

  // Bucket arithmetic, exposed for tests.
  static std::size_t index_of(std::uint64_t value_us) noexcept;
  static std::uint64_t highest_equivalent(std::size_t index) noexcept;
  static std::uint64_t lowest_equivalent(std::size_t index) noexcept;

 private:
  std::array<std::uint64_t, bucket_count> counts_{};
  std::uint64_t total_ = 0;
  std::uint64_t sum_ = 0;
  std::uint64_t min_ = UINT64_MAX;
  std::uint64_t max_ = 0;
  std::uint64_t clamped_ = 0;
};

using histogram = basic_histogram<8>;
using interval_histogram = basic_histogram<5>;

extern template class basic_histogram<8>;
extern template class basic_histogram<5>;

}  // namespace chatload
