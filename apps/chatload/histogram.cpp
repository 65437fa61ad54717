#include "histogram.hpp"

#include <algorithm>
#include <bit>
#include <cmath>

namespace chatload {

template <int B>
std::size_t basic_histogram<B>::index_of(std::uint64_t v) noexcept {
  constexpr std::uint64_t half = sub_bucket_count / 2;
  if (v < sub_bucket_count) return static_cast<std::size_t>(v);  // exact below sub_bucket_count µs
  // shift so that v >> shift is in [half, sub_bucket_count)
  const int shift = std::bit_width(v) - B;
  const std::uint64_t idx = sub_bucket_count + static_cast<std::uint64_t>(shift - 1) * half + ((v >> shift) - half);
  return static_cast<std::size_t>(std::min<std::uint64_t>(idx, bucket_count - 1));
}

template <int B>
std::uint64_t basic_histogram<B>::lowest_equivalent(std::size_t index) noexcept {
  constexpr std::uint64_t half = sub_bucket_count / 2;
  if (index < sub_bucket_count) return index;
  const std::uint64_t rel = index - sub_bucket_count;
  const int shift = static_cast<int>(rel / half) + 1;
  const std::uint64_t sub = rel % half + half;
  return sub << shift;
}

template <int B>
std::uint64_t basic_histogram<B>::highest_equivalent(std::size_t index) noexcept {
  constexpr std::uint64_t half = sub_bucket_count / 2;
  if (index < sub_bucket_count) return index;
  const std::uint64_t rel = index - sub_bucket_count;
  const int shift = static_cast<int>(rel / half) + 1;
  const std::uint64_t sub = rel % half + half;
  return ((sub + 1) << shift) - 1;
}

template <int B>
void basic_histogram<B>::record(std::uint64_t v) noexcept {
  if (v > max_trackable_us) {
    v = max_trackable_us;
    ++clamped_;
  }
  ++counts_[index_of(v)];
  ++total_;
  sum_ += v;
  min_ = std::min(min_, v);
  max_ = std::max(max_, v);
}

template <int B>
void basic_histogram<B>::merge(const basic_histogram& o) noexcept {
  for (std::size_t i = 0; i < bucket_count; ++i) counts_[i] += o.counts_[i];
  total_ += o.total_;
  sum_ += o.sum_;
  min_ = std::min(min_, o.min_);
  max_ = std::max(max_, o.max_);
  clamped_ += o.clamped_;
}

template <int B>
double basic_histogram<B>::stddev() const noexcept {
  if (total_ == 0) return 0;
  const double m = mean();
  double acc = 0;
  for (std::size_t i = 0; i < bucket_count; ++i) {
    if (counts_[i] == 0) continue;
    const double mid = (static_cast<double>(lowest_equivalent(i)) + static_cast<double>(highest_equivalent(i))) / 2;
    acc += static_cast<double>(counts_[i]) * (mid - m) * (mid - m);
  }
  return std::sqrt(acc / static_cast<double>(total_));
}

template <int B>
std::uint64_t basic_histogram<B>::percentile(double pct) const noexcept {
  if (total_ == 0) return 0;
  pct = std::clamp(pct, 0.0, 100.0);
  auto rank = static_cast<std::uint64_t>(std::ceil(pct / 100.0 * static_cast<double>(total_)));
  rank = std::clamp<std::uint64_t>(rank, 1, total_);
  std::uint64_t seen = 0;
  for (std::size_t i = 0; i < bucket_count; ++i) {
    seen += counts_[i];
    if (seen >= rank) return std::min(highest_equivalent(i), max_);
  }
  return max_;
}

template class basic_histogram<8>;
template class basic_histogram<5>;

}  // namespace chatload
