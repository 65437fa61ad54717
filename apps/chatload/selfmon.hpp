#pragma once
// The generator watches itself: if it could not issue sends on time, or used (nearly) all the
// CPU it had, its latency figures describe the generator rather than the server, and the run is
// marked invalid (exit 3, docs/chatload.md).
#include "histogram.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace chatload {

struct selfmon_bounds {
  double max_lag_p99_ms = 50;          // p99 of planned → SEND handed to the session
  double max_cpu_fraction = 0.9;       // of the cores the generator can use (see usable_cores)
  double max_dropped_fraction = 0.01;  // dropped_sends / planned
};

struct generator_stats {
  histogram send_lag;       // µs, planned time → SEND written into the session's queue
  histogram scheduler_lag;  // µs, planned time → the scheduler dispatched it (open model)
  double cpu_user_s = 0;    // getrusage(RUSAGE_SELF) over the sending phase and the drain
  double cpu_system_s = 0;
  double wall_s = 0;
  double usable_cores = 1;  // min(CPUs this process may run on, I/O threads + 1)
  std::uint64_t planned = 0;
  std::uint64_t dropped_sends = 0;

  double cpu_cores() const noexcept { return wall_s > 0 ? (cpu_user_s + cpu_system_s) / wall_s : 0; }
};

struct validity {
  bool valid = true;
  std::vector<std::string> reasons;  // one sentence per bound exceeded
};

validity assess(const generator_stats& g, const selfmon_bounds& b);

// CPU seconds (user, system) this process used so far.
struct cpu_times {
  double user_s = 0;
  double system_s = 0;
};
cpu_times process_cpu_times() noexcept;
// CPUs in this process's affinity mask (at least 1).
unsigned available_cpus() noexcept;

}  // namespace chatload
