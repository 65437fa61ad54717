#pragma once
// Admission control for the REST publishers (docs/rest.md "Overload"): a REST route that
// hands a chat record to the message log takes a slot of the node's admission gate first
// (core/admission_gate.hpp, the gate the STOMP gateway's SENDs use, bounded by
// --max-inflight-sends, --max-inflight-bytes and steered by --admission-target-delay), and
// frees it when the log answers. A REST request does not wait for a slot: the gate full, or
// its rate used up, is answered 503 `unavailable` with `Retry-After: 1` at once, nothing
// published.
//
// Use in a route, on the I/O thread before publishing:
//
//   auto slot = admit_or_503(gate_, req.body().size(), respond);
//   if (!slot) return;  // answered 503
//   log_.publish_chat(record, [slot, reply](const publish_result& r) mutable {
//     slot.release();   // the log answered (acknowledged or failed)
//     reply(...);
//   });
//
// A slot is released once: by release(), or when its last copy is destroyed (a callback
// that never runs, an exception before publishing), so a slot cannot leak.
#include "core/admission_gate.hpp"
#include "http/types.hpp"

#include <cstddef>
#include <memory>
#include <optional>

namespace chat::chatd::api {

class admission_slot {
 public:
  admission_slot() = default;  // holds nothing
  admission_slot(admission_gate& gate, std::size_t bytes);

  // Frees the slot now (every copy then holds nothing to free). Idempotent, thread-safe
  // between copies.
  void release() noexcept;
  // Whether this copy still holds an unreleased slot.
  bool held() const noexcept;

 private:
  struct hold;
  std::shared_ptr<hold> hold_;
};

// The 503 a REST publisher answers when the gate refuses: `unavailable` "server overloaded,
// try again" with Retry-After: 1.
http::response overloaded_response();

// Takes a slot of `bytes` from `gate` when one is free now (no waiter ahead, within the
// bounds and the steered rate). Otherwise answers `respond` with overloaded_response() and
// returns nullopt: the caller must not publish.
std::optional<admission_slot> admit_or_503(admission_gate& gate, std::size_t bytes, const http::responder& respond);

}  // namespace chat::chatd::api
