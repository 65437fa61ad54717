#pragma once
// The progress reporter: once per second of the run a timeline point (counts and the
// generator's CPU use since the last point), printed on stderr unless --quiet — rewritten in
// place on a terminal, one line per tick on a pipe or file. Called on the runner thread only.
#include "run_counters.hpp"
#include "runner.hpp"
#include "selfmon.hpp"

#include <cstdint>
#include <vector>

namespace chatload {

class progress_reporter {
 public:
  // `print`: write lines on stderr; `tty`: stderr is a terminal.
  progress_reporter(bool print, bool tty, const run_counters& counters)
      : print_(print), tty_(tty), counters_(counters) {}

  // The first interval starts at t0_ns (steady clock) with the CPU times `cpu`.
  void start(std::int64_t t0_ns, const cpu_times& cpu) noexcept {
    last_tick_ns_ = t0_ns;
    last_cpu_ = cpu;
  }
  // A point at t seconds since t0; `final_line` ends the line rewritten on a terminal.
  void tick(double t, bool final_line = false);

  const std::vector<timeline_point>& timeline() const noexcept { return timeline_; }

 private:
  bool print_;
  bool tty_;
  const run_counters& counters_;
  std::vector<timeline_point> timeline_;
  timeline_point last_tick_;
  cpu_times last_cpu_;
  std::int64_t last_tick_ns_ = 0;
};

}  // namespace chatload
