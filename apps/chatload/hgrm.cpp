#include "hgrm.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace chatload {

std::vector<percentile_point> percentile_distribution(const histogram& h, int ticks) {
  std::vector<percentile_point> out;
  const std::uint64_t total = h.count();
  if (total == 0) return out;
  double level = 0;  // percent
  std::uint64_t cumulative = 0;
  for (std::size_t i = 0; i < histogram::bucket_count && cumulative < total; ++i) {
    const auto c = h.count_at(i);
    if (c == 0) continue;
    cumulative += c;
    const std::uint64_t value = std::min(histogram::highest_equivalent(i), h.max());
    while (100.0 * static_cast<double>(cumulative) / static_cast<double>(total) >= level) {
      out.push_back({value, level / 100.0, cumulative});
      // As HdrHistogram: halve the step each time the distance to 100 % halves.
      const double halvings = std::floor(std::log2(100.0 / (100.0 - level)));
      const double next = level + 100.0 / (ticks * std::pow(2.0, halvings + 1));
      if (next <= level) break;  // out of floating-point resolution
      level = next;
      // The last bucket yields one line; the 100 % line follows.
      if (cumulative == total) break;
    }
  }
  out.push_back({h.max(), 1.0, total});
  return out;
}

void write_hgrm(std::ostream& out, const histogram& h, int ticks) {
  char line[160];
  std::snprintf(line, sizeof line, "%12s %14s %10s %14s\n\n", "Value", "Percentile", "TotalCount", "1/(1-Percentile)");
  out << line;
  for (const auto& p : percentile_distribution(h, ticks)) {
    const double ms = static_cast<double>(p.value_us) / 1e3;
    if (p.percentile < 1.0) {
      std::snprintf(line, sizeof line, "%12.3f %2.12f %10llu %14.2f\n", ms, p.percentile,
                    static_cast<unsigned long long>(p.total_count), 1.0 / (1.0 - p.percentile));
    } else {
      std::snprintf(line, sizeof line, "%12.3f %2.12f %10llu\n", ms, p.percentile,
                    static_cast<unsigned long long>(p.total_count));
    }
    out << line;
  }
  std::snprintf(line, sizeof line, "#[Mean    = %12.3f, StdDeviation   = %12.3f]\n", h.mean() / 1e3, h.stddev() / 1e3);
  out << line;
  std::snprintf(line, sizeof line, "#[Max     = %12.3f, Total count    = %12llu]\n", static_cast<double>(h.max()) / 1e3,
                static_cast<unsigned long long>(h.count()));
  out << line;
  std::snprintf(line, sizeof line, "#[Buckets = %12zu, SubBuckets     = %12llu]\n", histogram::bucket_count,
                static_cast<unsigned long long>(histogram::sub_bucket_count));
  out << line;
}

}  // namespace chatload
