#include "load_driver.hpp"

#include <algorithm>

namespace chatload {

void tick_until(sched_clock& clock, std::int64_t t0, const load_driver::tick_fn& tick,
                const std::function<bool()>& done) {
  for (int n = 1;; ++n) {
    const auto at = t0 + std::int64_t{n} * 1'000'000'000;
    for (auto now = clock.now_ns(); now < at; now = clock.now_ns())
      clock.sleep_until_ns(now + std::min<std::int64_t>(at - now, 50'000'000));
    tick(n);
    if (done()) return;
  }
}

}  // namespace chatload
