#pragma once
// The deterministic send plan and the per-receiver delivery ledger.
//
// Send number g (0, 1, 2, …) is planned at g / rate seconds after the start, in room g % R, by
// the member in slot (g / R) % M of that room, as that sender's message number g / (R·M) in
// that room (its sequence). Room r's members are users (r·M + j) % N for slots j = 0…M-1, so
// load spreads evenly over rooms and users. Everything about a message follows from g, which
// travels in its messageKey; no table is shared between the sending and receiving sessions.
#include <cstdint>
#include <string>
#include <string_view>
#include <optional>
#include <vector>

namespace chatload {

struct plan {
  std::uint32_t users = 0;
  std::uint32_t rooms = 0;
  std::uint32_t members = 0;  // per room, <= users
  double rate = 0;            // sends per second, all rooms together

  std::uint32_t room_of(std::uint64_t g) const noexcept { return static_cast<std::uint32_t>(g % rooms); }
  std::uint32_t sender_slot_of(std::uint64_t g) const noexcept {
    return static_cast<std::uint32_t>((g / rooms) % members);
  }
  std::uint64_t seq_of(std::uint64_t g) const noexcept { return g / (std::uint64_t{rooms} * members); }
  std::uint32_t user_of(std::uint32_t room, std::uint32_t slot) const noexcept {
    return static_cast<std::uint32_t>((std::uint64_t{room} * members + slot) % users);
  }
  std::int64_t planned_offset_ns(std::uint64_t g) const noexcept {
    return static_cast<std::int64_t>(static_cast<double>(g) * 1e9 / rate);
  }
  std::uint64_t sends_in(double seconds) const noexcept {
    return static_cast<std::uint64_t>(seconds * rate);
  }
};

// messageKey: a lower-case version-4 UUID whose first 15 hex digits are the run's nonce and
// whose last 12 are g, so a run recognises its own messages (and not an earlier run's).
std::string message_key(std::uint64_t nonce, std::uint64_t g);
std::optional<std::uint64_t> parse_message_key(std::string_view key, std::uint64_t nonce) noexcept;

enum class delivery { first, duplicate, reordered };

// Counts deliveries per (send, receiver slot). Thread contract: all calls for one (room,
// receiver slot) come from one thread at a time (that receiver's strand); summaries after
// every receiver has stopped.
class ledger {
 public:
  ledger(const plan& p, std::uint64_t planned_sends);

  // Receiver in `receiver_slot` of room_of(g) got message g.
  delivery deliver(std::uint64_t g, std::uint32_t receiver_slot) noexcept;

  struct totals {
    std::uint64_t expected = 0;    // sends issued × members
    std::uint64_t delivered = 0;   // distinct (send, receiver) deliveries
    std::uint64_t lost = 0;        // expected and never delivered
    std::uint64_t duplicated = 0;  // deliveries beyond the first
    std::uint64_t reordered = 0;   // first deliveries older than one already seen from that sender
  };
  // `issued[g]` says whether send g went out (a SEND was written or queued).
  totals summarize(const std::vector<std::uint8_t>& issued) const;

  std::uint64_t planned_sends() const noexcept { return planned_; }

 private:
  plan plan_;
  std::uint64_t planned_;
  std::vector<std::uint8_t> counts_;      // [g * M + receiver slot], saturating
  std::vector<std::int64_t> last_seq_;    // [(room * M + receiver slot) * M + sender slot]
  std::vector<std::uint64_t> dup_;        // per (room, receiver slot)
  std::vector<std::uint64_t> reordered_;  // per (room, receiver slot)
};

}  // namespace chatload
