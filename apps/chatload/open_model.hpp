#pragma once
// The open model: a fixed arrival rate (after an optional linear ramp-up) whatever the server
// answers. A scheduler thread hands each send to `dispatch` at its planned time; the runner
// posts it to the sender's strand, which drops it when it is too late (see traffic). RECEIPTs
// and deliveries are timed from the planned time, so a stalled server shows as latency.
#include "accounting.hpp"
#include "load_driver.hpp"
#include "run_counters.hpp"
#include "scheduler.hpp"

#include <atomic>
#include <cstdint>

namespace chatload {

class open_model final : public load_driver {
 public:
  // `planned` sends of plan `p`; run() returns once `counters` account for all of them
  // (sent, dropped or failed). `dispatch` runs on the scheduler thread; what it throws ends
  // the run and is thrown from run().
  open_model(const plan& p, std::uint64_t planned, sched_clock& clock, const run_counters& counters,
             send_scheduler::dispatch_fn dispatch)
      : plan_(p), planned_(planned), clock_(clock), counters_(counters), dispatch_(std::move(dispatch)) {}

  void run(std::int64_t t0_ns, const tick_fn& tick) override;
  std::optional<std::int64_t> take_receipt(session& s, std::uint64_t g, std::int64_t now_ns) override;
  void on_closed(session&) override {}
  bool sending_finished() const override { return true; }
  histogram scheduler_lag() const override { return lag_; }

 private:
  plan plan_;
  std::uint64_t planned_;
  sched_clock& clock_;
  const run_counters& counters_;
  send_scheduler::dispatch_fn dispatch_;
  std::atomic<std::int64_t> t0_ns_{0};
  histogram lag_;  // written by the scheduler thread before it ends
};

}  // namespace chatload
