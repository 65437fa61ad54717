#include "intervals.hpp"

#include <algorithm>
#include <cmath>

namespace chatload {

interval_stats& interval_series::at_offset(std::int64_t offset_ns) noexcept {
  const std::int64_t s = offset_ns <= 0 ? 0 : offset_ns / 1'000'000'000;
  const auto i = static_cast<std::size_t>(s);
  return seconds_[std::min(i, seconds_.size() - 1)];
}

void interval_series::record_delivery(std::int64_t offset_ns, std::uint64_t latency_us) noexcept {
  auto& s = at_offset(offset_ns);
  s.delivery.record(latency_us);
  if (latency_us > 50'000) ++s.over_50ms;
}

void interval_series::record_receipt(std::int64_t offset_ns, std::uint64_t latency_us) noexcept {
  at_offset(offset_ns).receipt.record(latency_us);
}

void interval_series::count_sent(std::int64_t offset_ns) noexcept { ++at_offset(offset_ns).sent; }

void interval_series::count_refused(std::int64_t offset_ns) noexcept { ++at_offset(offset_ns).refused; }

void interval_series::merge(const interval_series& o) {
  if (seconds_.size() < o.seconds_.size()) seconds_.resize(o.seconds_.size());
  for (std::size_t i = 0; i < o.seconds_.size(); ++i) {
    seconds_[i].delivery.merge(o.seconds_[i].delivery);
    seconds_[i].receipt.merge(o.seconds_[i].receipt);
    seconds_[i].sent += o.seconds_[i].sent;
    seconds_[i].over_50ms += o.seconds_[i].over_50ms;
    seconds_[i].refused += o.seconds_[i].refused;
  }
}

std::optional<double> recovery_seconds(const interval_series& s, double from_s, double threshold_ms) {
  const auto first = static_cast<std::size_t>(from_s > 0 ? std::floor(from_s) : 0);
  if (first >= s.size()) return std::nullopt;
  const auto threshold_us = static_cast<std::uint64_t>(threshold_ms * 1e3);
  const auto within = [&](const interval_stats& x) {
    if (x.delivery.count() == 0) return x.sent == 0;
    return x.delivery.percentile(99) <= threshold_us;
  };
  bool any_sent = false;
  for (std::size_t i = first; i < s.size(); ++i) any_sent |= s[i].sent > 0;
  if (!any_sent) return std::nullopt;
  std::size_t tail = s.size();  // the first second of the tail that stays within the threshold
  while (tail > first && within(s[tail - 1])) --tail;
  if (tail == s.size()) return std::nullopt;
  return std::max(0.0, static_cast<double>(tail) - from_s);
}

}  // namespace chatload
