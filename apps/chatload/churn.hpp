#pragma once
// --churn R: R sessions per second drop their connection (closed without DISCONNECT, as a lost
// network would) and reconnect at once, re-subscribing each room with `since-id:<the last room
// event id this subscription received>` (docs/stomp.md "Recovery"), so the server replays what
// the session missed. The delivery ledger counts per (room, receiver slot), not per connection,
// so a receiver that reconnects must still end with every event once and in order: a replayed
// event it had already is a duplicate, one the server did not replay is lost.
//
// This header holds the parts without I/O: which session drops when, what a MESSAGE tells a
// subscription's cursor, and the counters the report shows. session_pool does the reconnecting,
// traffic the cursors, runner the schedule.
#include <chat/stomp/frame.hpp>

#include <atomic>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace chatload {

// --churn's value: "50" (drops per second) or "5%" (of `users`, per second): > 0, at most
// 100,000/s. nullopt with `why` set otherwise.
std::optional<double> parse_churn(std::string_view text, std::uint32_t users, std::string& why);

// When the i-th drop is due and whom it hits: drop i at i / rate seconds after the start of
// sending, session victim(i) of `sessions` — a fixed pseudo-random sequence (splitmix64 of i),
// so a run's drops spread over the sessions and repeat from run to run.
struct churn_schedule {
  double rate = 0;  // drops per second

  std::int64_t due_offset_ns(std::uint64_t i) const noexcept;
  static std::uint32_t victim(std::uint64_t i, std::uint32_t sessions) noexcept;
};

// What a MESSAGE of a room subscription is, for the cursor and the ledger (docs/stomp.md):
// a room event with its id (the message-id header: decimal, >= 0), a read mark (chat-event:read:
// no id, not in the ledger), the recovery marker (chat-event:recovery.truncated), or something
// else (no usable message-id).
enum class room_frame { event, read_mark, truncated, other };
room_frame classify_room_frame(const chat::stomp::frame& f, std::int64_t& event_id) noexcept;

// Per subscription: the highest room event id received, the since-id of the next re-SUBSCRIBE.
class event_cursor {
 public:
  // A room event arrived; ids grow in the room's order, so the highest one is where to resume.
  void seen(std::int64_t id) noexcept {
    if (id > last_) last_ = id;
  }
  bool known() const noexcept { return last_ >= 0; }
  // Precondition: known().
  std::int64_t since_id() const noexcept { return last_; }

 private:
  std::int64_t last_ = -1;
};

struct churn_counters {
  std::atomic<std::uint64_t> drops{0};       // connections dropped on purpose
  std::atomic<std::uint64_t> reconnects{0};  // sessions CONNECTED again with every room re-subscribed
  std::atomic<std::uint64_t> failed{0};      // reconnects that closed before they were complete
  // Drops due while their session was still reconnecting, not connected, or had a room without
  // any event yet (no since-id to resume from): not done.
  std::atomic<std::uint64_t> skipped{0};
  std::atomic<std::uint64_t> recovered{0};         // re-SUBSCRIBE RECEIPTs with recovered:true
  std::atomic<std::uint64_t> not_recovered{0};     // recovered:false (truncated, or no header at all)
  std::atomic<std::uint64_t> no_header{0};         // of those: RECEIPTs without a recovered header
  std::atomic<std::uint64_t> recovered_events{0};  // room events that came before their re-SUBSCRIBE's RECEIPT
  std::atomic<std::uint64_t> truncations{0};       // chat-event:recovery.truncated markers
  std::atomic<std::uint64_t> unsent{0};            // planned sends due while their session was reconnecting
  // SENDs issued on a connection that was then dropped before their answer: never answered.
  std::atomic<std::uint64_t> orphaned{0};
};

}  // namespace chatload
