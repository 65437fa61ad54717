#pragma once
// The runner's view of a load model (--mode): it runs the sending phase and has a say in how
// RECEIPTs are timed and what a closed session means. open_model.hpp and sessions_model.hpp
// are the two implementations.
#include "histogram.hpp"
#include "scheduler.hpp"

#include <cstdint>
#include <functional>
#include <optional>

namespace chatload {

struct session;

class load_driver {
 public:
  // Progress: called on the runner thread once per second of the schedule (n = 1, 2, ...).
  using tick_fn = std::function<void(int n)>;

  virtual ~load_driver() = default;

  // Runs the sending phase on the calling thread, the first send due at t0_ns (steady clock),
  // calling tick(n) at t0 + n s, until the model plans no more sends. An error of the model
  // (or of tick) is thrown from here; whether run() returns or throws, any thread it started
  // has ended.
  virtual void run(std::int64_t t0_ns, const tick_fn& tick) = 0;

  // On s's strand: the answer to send g (its RECEIPT, or an ERROR / soft error refusing it)
  // arrived at now_ns. Returns the planned time to time it against, or nullopt when it is not
  // timed.
  virtual std::optional<std::int64_t> take_receipt(session& s, std::uint64_t g, std::int64_t now_ns) = 0;
  // On s's strand: the session closed.
  virtual void on_closed(session& s) = 0;

  // Whether every session has sent its last message (the drain waits for this as well).
  virtual bool sending_finished() const = 0;
  // µs between each send's planned time and its dispatch (empty when the model has no scheduler).
  virtual histogram scheduler_lag() const = 0;
};

// Calls tick(1), tick(2), ... at t0 + 1 s, t0 + 2 s, ... until done() holds after a tick.
// Waits in slices of at most 50 ms.
void tick_until(sched_clock& clock, std::int64_t t0_ns, const load_driver::tick_fn& tick,
                const std::function<bool()>& done);

}  // namespace chatload
