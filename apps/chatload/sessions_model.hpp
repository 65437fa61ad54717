#pragma once
// The closed sessions model (--mode sessions): each session sends its next message --think
// after the RECEIPT of its previous one (or after --receipt-timeout), taking its rooms in
// turn. Sessions start spread over --ramp-up; a session stops at the end of the schedule,
// when it closes, or when the ledger is full (--max-messages).
//
// Threads: a session's steps run on its strand, driven by its timer; run() on the runner thread.
#include "load_driver.hpp"
#include "run_counters.hpp"
#include "runner.hpp"
#include "session_pool.hpp"
#include "traffic.hpp"

namespace chatload {

class sessions_model final : public load_driver {
 public:
  sessions_model(const run_options& options, const plan& p, traffic& t, session_pool& pool, run_counters& counters)
      : opt_(options), plan_(p), traffic_(t), pool_(pool), counters_(counters) {}

  void run(std::int64_t t0_ns, const tick_fn& tick) override;
  std::optional<std::int64_t> take_receipt(session& s, std::uint64_t g, std::int64_t now_ns) override;
  void on_closed(session& s) override;
  bool sending_finished() const override { return counters_.sessions_done >= pool_.size(); }
  histogram scheduler_lag() const override { return {}; }

 private:
  void schedule_next(session& s, std::int64_t at_ns);
  void send_next(session& s, std::int64_t planned_ns);
  void finish(session& s);

  const run_options& opt_;
  const plan& plan_;
  traffic& traffic_;
  session_pool& pool_;
  run_counters& counters_;
};

}  // namespace chatload
