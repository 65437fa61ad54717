#include "open_model.hpp"

#include <algorithm>
#include <exception>
#include <thread>

namespace chatload {

namespace {

// The scheduler's thread. Leaving scope, even by an exception on the runner thread, it asks
// the body to stop and joins it, so unwinding never destroys a joinable std::thread (which
// would std::terminate the process). The body's own exception is kept for join().
class scheduler_thread {
 public:
  template <class Body>
  explicit scheduler_thread(Body body)
      : thread_([this, body = std::move(body)] {
          try {
            body(stop_);
          } catch (...) {
            failure_ = std::current_exception();
            failed_ = true;
          }
        }) {}
  scheduler_thread(const scheduler_thread&) = delete;
  scheduler_thread& operator=(const scheduler_thread&) = delete;
  ~scheduler_thread() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }

  bool failed() const noexcept { return failed_; }
  // Waits for the body to end by itself (or to stop after a failure); rethrows its exception.
  void join() {
    if (failed_) stop_ = true;
    thread_.join();
    if (failure_) std::rethrow_exception(failure_);
  }

 private:
  std::atomic<bool> stop_{false};
  std::atomic<bool> failed_{false};
  std::exception_ptr failure_;  // written by the thread, read after joining it
  std::thread thread_;          // last: starts after the members it uses exist
};

}  // namespace

void open_model::run(std::int64_t t0, const tick_fn& tick) {
  t0_ns_ = t0;
  // The scheduler thread posts each SEND to its sender's strand at the planned time; the strand
  // checks lateness, so a stalled session or I/O thread shows up as latency or dropped_sends.
  scheduler_thread scheduler([this, t0](const std::atomic<bool>& stop) {
    send_scheduler sched(plan_, planned_, clock_);
    sched.run(t0, stop, dispatch_);
    lag_ = sched.lag();
  });
  // Sessions that died (server down) fail their sends quickly (send_errors), so the loop
  // ends on time and every planned send is accounted for.
  tick_until(clock_, t0, tick, [&] { return scheduler.failed() || counters_.accounted_sends() >= planned_; });
  scheduler.join();
}

std::optional<std::int64_t> open_model::take_receipt(session&, std::uint64_t g, std::int64_t) {
  return t0_ns_.load(std::memory_order_relaxed) + plan_.planned_offset_ns(g);
}

}  // namespace chatload
