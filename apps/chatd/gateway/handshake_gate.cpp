#include "gateway/handshake_gate.hpp"

#include <chat/log/log.hpp>

#include <boost/asio/post.hpp>

namespace chat::gateway {

namespace net = boost::asio;

// ---- gate -----------------------------------------------------------------------------------

std::shared_ptr<gated_transport> handshake_gate::admit(gated_transport& c) {
  std::lock_guard lock(mutex_);
  pending_hook* oldest = pending_.admit(c);
  if (oldest == nullptr) return nullptr;
  // Every hook in the set is a gated_transport. One whose last owner is gone is being
  // destroyed (its destructor waits for this mutex to leave): it needs no eviction.
  return static_cast<gated_transport*>(oldest)->self_.lock();
}

void handshake_gate::leave(gated_transport& c) noexcept {
  std::lock_guard lock(mutex_);
  pending_.leave(c);
}

std::size_t handshake_gate::pending() const {
  std::lock_guard lock(mutex_);
  return pending_.size();
}

std::uint64_t handshake_gate::count_eviction() {
  const auto n = evicted_.fetch_add(1, std::memory_order_relaxed) + 1;
  if (n % 1000 == 1) {
    log::warn("too many STOMP connections without CONNECT; closing the oldest",
              {{"limit", static_cast<std::int64_t>(limit())}, {"evicted_total", static_cast<std::int64_t>(n)}});
  }
  return n;
}

// ---- member ---------------------------------------------------------------------------------

gated_transport::~gated_transport() { leave_handshake(); }

void gated_transport::track_handshake(const std::shared_ptr<gated_transport>& self) {
  if (!gate_) return;
  self_ = self;
  // Outside the gate's mutex: the victim is kept alive by `victim` and told on its strand.
  if (auto victim = gate_->admit(*this)) {
    auto strand = victim->handshake_strand();
    net::post(strand, [victim = std::move(victim)] { victim->on_evicted(); });
  }
}

void gated_transport::handshake_session_started() {
  started_ = true;
  if (evict_on_start_) {
    evict_on_start_ = false;
    on_evicted();
  }
}

void gated_transport::on_evicted() {
  if (!started_) {
    evict_on_start_ = true;
    return;
  }
  if (evict_handshake()) gate_->count_eviction();
}

}  // namespace chat::gateway
