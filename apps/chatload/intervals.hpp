#pragma once
// Per-second series of a run, indexed by the second of the schedule in which a message was
// *planned* (so a stall shows up in the second whose messages it delayed): compact latency
// histograms of deliveries and RECEIPTs, sends, and deliveries later than 50 ms.
// One series per I/O thread, sized once before the run (no allocation while recording),
// merged at the end. Memory: about 6 KiB per second of schedule per series.
#include "histogram.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

namespace chatload {

struct interval_stats {
  interval_histogram delivery;  // µs, planned send → MESSAGE
  interval_histogram receipt;   // µs, planned send → RECEIPT
  std::uint64_t sent = 0;
  std::uint64_t over_50ms = 0;  // deliveries later than 50 ms after their planned time
  std::uint64_t refused = 0;    // sends answered by an ERROR or soft error with their receipt-id
};

class interval_series {
 public:
  interval_series() = default;
  explicit interval_series(std::size_t seconds) : seconds_(seconds ? seconds : 1) {}

  // `offset_ns` is the planned time relative to the schedule's start; times before 0 go to
  // second 0, times past the end to the last second.
  void record_delivery(std::int64_t offset_ns, std::uint64_t latency_us) noexcept;
  void record_receipt(std::int64_t offset_ns, std::uint64_t latency_us) noexcept;
  void count_sent(std::int64_t offset_ns) noexcept;
  void count_refused(std::int64_t offset_ns) noexcept;

  void merge(const interval_series& other);

  std::size_t size() const noexcept { return seconds_.size(); }
  const interval_stats& operator[](std::size_t i) const noexcept { return seconds_[i]; }

 private:
  interval_stats& at_offset(std::int64_t offset_ns) noexcept;
  std::vector<interval_stats> seconds_;
};

// Seconds from `from_s` (an offset into the schedule, e.g. the end of an overload phase) until
// the delivery p99 of every later second of the series is at most `threshold_ms`: the start of
// the first second of that tail minus from_s, at least 0 (1 s resolution). A second in which
// messages were sent but none delivered counts as over the threshold; one without sends does
// not count either way. nullopt when nothing was sent from from_s on, or when the last
// second is over the threshold (it never recovered).
std::optional<double> recovery_seconds(const interval_series& s, double from_s, double threshold_ms);

}  // namespace chatload
