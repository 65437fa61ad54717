#pragma once
// One steady_timer per connection for the session's deadlines (heart-beats, handshake,
// stalls, linger). Re-armed only when an earlier deadline is asked for, so a busy session
// does not re-arm on every frame: a timer that fires early just asks the session again.
// Strand only.
#include "gateway/ports.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>

#include <cstdint>

namespace chat::gateway {

class session_timer {
 public:
  explicit session_timer(const boost::asio::any_io_executor& ex) : timer_(ex) {}

  // Calls `fire()` at `deadline` unless an earlier deadline is pending already. `fire`
  // must keep the timer's owner alive (capture a shared_ptr).
  template <class Fire>
  void arm(time_point deadline, Fire fire) {
    if (armed_ && deadline >= at_) return;
    armed_ = true;
    at_ = deadline;
    const auto gen = ++gen_;
    timer_.expires_at(deadline);
    timer_.async_wait([this, gen, fire = std::move(fire)](const boost::system::error_code& ec) mutable {
      if (ec || gen != gen_) return;  // replaced or cancelled
      armed_ = false;
      fire();
    });
  }

  void cancel() {
    ++gen_;
    armed_ = false;
    timer_.cancel();
  }

 private:
  boost::asio::steady_timer timer_;
  time_point at_{};
  std::uint64_t gen_ = 0;
  bool armed_ = false;
};

}  // namespace chat::gateway
