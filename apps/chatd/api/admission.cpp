#include "api/admission.hpp"

#include "api/errors.hpp"

#include <atomic>

namespace chat::chatd::api {

struct admission_slot::hold {
  hold(admission_gate& g, std::size_t b) : gate(g), bytes(b) {}
  hold(const hold&) = delete;
  hold& operator=(const hold&) = delete;
  ~hold() { release(); }

  void release() noexcept {
    if (!released.exchange(true, std::memory_order_acq_rel)) gate.release(bytes);
  }

  admission_gate& gate;
  const std::size_t bytes;
  std::atomic<bool> released{false};
};

admission_slot::admission_slot(admission_gate& gate, std::size_t bytes) : hold_(std::make_shared<hold>(gate, bytes)) {}

void admission_slot::release() noexcept {
  if (hold_) hold_->release();
}

bool admission_slot::held() const noexcept { return hold_ && !hold_->released.load(std::memory_order_acquire); }

http::response overloaded_response() { return unavailable("server overloaded, try again"); }

std::optional<admission_slot> admit_or_503(admission_gate& gate, std::size_t bytes, const http::responder& respond) {
  if (gate.try_admit(bytes)) return admission_slot(gate, bytes);
  gate.count_refused();
  respond(overloaded_response());
  return std::nullopt;
}

}  // namespace chat::chatd::api
