#include "histogram.hpp"

#include <algorithm>
#include <bit>
#include <cmath>

namespace chatload {

namespace {
constexpr std::uint64_t sub_count = 1u << histogram::sub_bucket_bits;  // 256
constexpr std::uint64_t half = sub_count / 2;                           // 128
}  // namespace

std::size_t histogram::index_of(std::uint64_t v) noexcept {
  if (v < sub_count) return static_cast<std::size_t>(v);  // exact below 256 µs
  // shift so that v >> shift is in [128, 256)
  const int shift = std::bit_width(v) - sub_bucket_bits;
  const std::uint64_t idx = sub_count + static_cast<std::uint64_t>(shift - 1) * half + ((v >> shift) - half);
  return static_cast<std::size_t>(std::min<std::uint64_t>(idx, bucket_count - 1));
}

std::uint64_t histogram::highest_equivalent(std::size_t index) noexcept {
  if (index < sub_count) return index;
  const std::uint64_t rel = index - sub_count;
  const int shift = static_cast<int>(rel / half) + 1;
  const std::uint64_t sub = rel % half + half;
  return ((sub + 1) << shift) - 1;
}

void histogram::record(std::uint64_t v) noexcept {
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

void histogram::merge(const histogram& o) noexcept {
  for (std::size_t i = 0; i < bucket_count; ++i) counts_[i] += o.counts_[i];
  total_ += o.total_;
  sum_ += o.sum_;
  min_ = std::min(min_, o.min_);
  max_ = std::max(max_, o.max_);
  clamped_ += o.clamped_;
}

std::uint64_t histogram::percentile(double pct) const noexcept {
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

}  // namespace chatload
