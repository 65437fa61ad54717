#include "progress.hpp"

#include "scheduler.hpp"

#include <cstdio>

namespace chatload {

void progress_reporter::tick(double t, bool final_line) {
  const auto now = steady_now_ns();
  const auto cpu = process_cpu_times();
  const double dt = static_cast<double>(now - last_tick_ns_) / 1e9;
  timeline_point p{t,
                   counters_.sent.load(),
                   counters_.delivered.load(),
                   counters_.receipts.load(),
                   dt > 0 ? (cpu.user_s + cpu.system_s - last_cpu_.user_s - last_cpu_.system_s) / dt : 0,
                   counters_.refused.load()};
  last_cpu_ = cpu;
  last_tick_ns_ = now;
  if (print_) {
    const std::uint64_t errs = counters_.errors.total();
    char line[256];
    std::snprintf(
        line, sizeof line,
        "[%6.1fs] sent %7llu (+%llu/s)  delivered %8llu (+%llu/s)  receipts %7llu  dropped %llu  errors %llu  cpu %.2f",
        t, static_cast<unsigned long long>(p.sent), static_cast<unsigned long long>(p.sent - last_tick_.sent),
        static_cast<unsigned long long>(p.delivered),
        static_cast<unsigned long long>(p.delivered - last_tick_.delivered),
        static_cast<unsigned long long>(p.receipts), static_cast<unsigned long long>(counters_.dropped.load()),
        static_cast<unsigned long long>(errs), p.cpu_cores);
    // A terminal gets one line rewritten in place; a pipe or file one line per tick.
    if (tty_)
      std::fprintf(stderr, "\r%s\x1b[K%s", line, final_line ? "\n" : "");
    else
      std::fprintf(stderr, "%s\n", line);
  }
  timeline_.push_back(p);
  last_tick_ = p;
}

}  // namespace chatload
