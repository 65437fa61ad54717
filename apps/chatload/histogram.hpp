#pragma once
// A log-linear latency histogram in the manner of HdrHistogram: values (microseconds) from 1 µs
// to 60 s with two significant digits (every bucket is narrower than 1/128 of its value).
// Fixed size (2,560 counters, 20 KiB), no allocation after construction, mergeable by adding
// counters. Not thread-safe: one per thread, merged at the end.
#include <array>
#include <cstdint>

namespace chatload {

class histogram {
 public:
  static constexpr std::uint64_t max_trackable_us = 60'000'000;  // larger values are clamped
  static constexpr int sub_bucket_bits = 8;                         // 256 sub-buckets, 128 per octave
  static constexpr std::size_t bucket_count = 2560;

  void record(std::uint64_t value_us) noexcept;
  void merge(const histogram& other) noexcept;

  std::uint64_t count() const noexcept { return total_; }
  std::uint64_t min() const noexcept { return total_ ? min_ : 0; }
  std::uint64_t max() const noexcept { return max_; }  // exact (unclamped up to max_trackable_us)
  double mean() const noexcept { return total_ ? static_cast<double>(sum_) / static_cast<double>(total_) : 0.0; }
  // The smallest bucket's upper bound at or below which `pct` percent of the values lie, capped
  // by the exact maximum; 0 when empty. pct in [0, 100].
  std::uint64_t percentile(double pct) const noexcept;
  // Values that were above max_trackable_us (recorded as max_trackable_us).
  std::uint64_t clamped() const noexcept { return clamped_; }

  // Bucket arithmetic, exposed for tests.
  static std::size_t index_of(std::uint64_t value_us) noexcept;
  static std::uint64_t highest_equivalent(std::size_t index) noexcept;

 private:
  std::array<std::uint64_t, bucket_count> counts_{};
  std::uint64_t total_ = 0;
  std::uint64_t sum_ = 0;
  std::uint64_t min_ = UINT64_MAX;
  std::uint64_t max_ = 0;
  std::uint64_t clamped_ = 0;
};

}  // namespace chatload
