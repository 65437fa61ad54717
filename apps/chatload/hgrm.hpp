#pragma once
// HdrHistogram's percentile distribution ("hgrm") of a latency histogram: the same iteration
// as HdrHistogram's PercentileIterator (5 ticks per half distance to 100 %), and its text
// format (Value, Percentile, TotalCount, 1/(1-Percentile); values in milliseconds), which
// HdrHistogram's plotter (hdrhistogram.github.io/HdrHistogram/plotFiles.html) reads.
#include "histogram.hpp"

#include <cstdint>
#include <ostream>
#include <vector>

namespace chatload {

struct percentile_point {
  std::uint64_t value_us = 0;  // bucket upper bound, capped by the exact maximum
  double percentile = 0;       // 0 … 1
  std::uint64_t total_count = 0;
};

// Points in increasing percentile order; the last one is (max, 1.0, count). Empty when `h` is.
std::vector<percentile_point> percentile_distribution(const histogram& h, int ticks_per_half_distance = 5);

// Writes the hgrm text: header, one line per point, and the #[Mean …] footer.
void write_hgrm(std::ostream& out, const histogram& h, int ticks_per_half_distance = 5);

}  // namespace chatload
