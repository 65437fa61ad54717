#include "selfmon.hpp"

#include <sched.h>
#include <sys/resource.h>

#include <cstdio>

namespace chatload {

validity assess(const generator_stats& g, const selfmon_bounds& b) {
  validity v;
  char line[256];
  const double lag_ms = static_cast<double>(g.send_lag.percentile(99)) / 1e3;
  if (g.send_lag.count() > 0 && lag_ms > b.max_lag_p99_ms) {
    std::snprintf(line, sizeof line, "generator send lag p99 %.3f ms exceeds %.3f ms (--max-lag-ms)", lag_ms,
                  b.max_lag_p99_ms);
    v.reasons.emplace_back(line);
  }
  const double cpu_bound = b.max_cpu_fraction * g.usable_cores;
  if (g.cpu_cores() > cpu_bound) {
    std::snprintf(line, sizeof line, "generator CPU %.4f cores exceeds %.4f (--max-cpu %.4f of %.0f usable cores)",
                  g.cpu_cores(), cpu_bound, b.max_cpu_fraction, g.usable_cores);
    v.reasons.emplace_back(line);
  }
  if (g.planned > 0) {
    const double dropped = static_cast<double>(g.dropped_sends) / static_cast<double>(g.planned);
    if (dropped > b.max_dropped_fraction) {
      std::snprintf(line, sizeof line, "dropped_sends %llu of %llu planned exceeds %.4f (--max-dropped)",
                    static_cast<unsigned long long>(g.dropped_sends), static_cast<unsigned long long>(g.planned),
                    b.max_dropped_fraction);
      v.reasons.emplace_back(line);
    }
  }
  v.valid = v.reasons.empty();
  return v;
}

cpu_times process_cpu_times() noexcept {
  rusage u{};
  if (getrusage(RUSAGE_SELF, &u) != 0) return {};
  auto secs = [](const timeval& t) { return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6; };
  return {secs(u.ru_utime), secs(u.ru_stime)};
}

unsigned available_cpus() noexcept {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) != 0) return 1;
  const int n = CPU_COUNT(&set);
  return n > 0 ? static_cast<unsigned>(n) : 1;
}

}  // namespace chatload
