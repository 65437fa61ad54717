#pragma once
// The deterministic send plan, the identity a message carries, and the per-receiver delivery
// ledger.
//
// Send number g (0, 1, 2, …) is in room g % R, by the member in slot (g / R) % M of that room,
// as that sender's message number g / (R·M) in that room (its sequence). Room r's members are
// users (r·M + j) % N for slots j = 0…M-1, so load spreads evenly over rooms and users.
// In the open model g is also planned at a fixed time (planned_offset_ns: linear ramp from 0
// to `rate` over `ramp_s`, then `rate`); in the closed sessions model each (room, sender) sends
// its sequence numbers one after the other and the planned time travels in the payload.
#include "mix.hpp"
#include "phases.hpp"

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace chatload {

struct plan {
  std::uint32_t users = 0;
  std::uint32_t rooms = 0;
  std::uint32_t members = 0;  // per room, <= users
  double rate = 0;            // sends per second, all rooms together, after the ramp
  double ramp_s = 0;          // the arrival rate grows linearly from 0 to `rate` over this
  // After the ramp: these rates one after the other (--warmup and --phases), then the last one
  // for good. Empty: `rate` from the end of the ramp on.
  std::vector<rate_phase> segments;

  std::uint32_t room_of(std::uint64_t g) const noexcept { return static_cast<std::uint32_t>(g % rooms); }
  std::uint32_t sender_slot_of(std::uint64_t g) const noexcept {
    return static_cast<std::uint32_t>((g / rooms) % members);
  }
  std::uint64_t seq_of(std::uint64_t g) const noexcept { return g / (std::uint64_t{rooms} * members); }
  std::uint64_t g_of(std::uint32_t room, std::uint32_t sender_slot, std::uint64_t seq) const noexcept {
    return seq * rooms * members + std::uint64_t{sender_slot} * rooms + room;
  }
  std::uint32_t user_of(std::uint32_t room, std::uint32_t slot) const noexcept {
    return static_cast<std::uint32_t>((std::uint64_t{room} * members + slot) % users);
  }
  // Open model: when send g is due, relative to the first. Cumulative arrivals are
  // rate·t²/(2·ramp) during the ramp, then grow at each segment's rate in turn (at `rate`
  // without segments): rate·ramp/2 + rate·(t − ramp).
  std::int64_t planned_offset_ns(std::uint64_t g) const noexcept;
  // Cumulative arrivals planned in [0, seconds).
  double arrivals_at(double seconds) const noexcept;
  // How many sends are planned before `seconds` (ramp included).
  std::uint64_t sends_in(double seconds) const noexcept;
};

// messageKey: a lower-case version-4 UUID whose first 15 hex digits are the run's nonce and
// whose last 12 are g, so a run recognises its own messages (and not an earlier run's).
std::string message_key(std::uint64_t nonce, std::uint64_t g);
// The same into out[0..36) (no terminator, no allocation).
void format_message_key(char* out36, std::uint64_t nonce, std::uint64_t g) noexcept;
std::optional<std::uint64_t> parse_message_key(std::string_view key, std::uint64_t nonce) noexcept;

// The message text: "CL1.<nonce, 15 hex>.<g, hex>.<planned offset ns, decimal>." padded with
// 'x' to `size` octets (never truncated). It is the content of a chatd message and the whole
// body of a generic STOMP message, so identity and planned time survive any broker that keeps
// the body. encode_payload reuses `out`'s capacity (no allocation once grown).
void encode_payload(std::string& out, std::uint64_t nonce, std::uint64_t g, std::int64_t planned_offset_ns,
                    std::size_t size);
struct payload_id {
  std::uint64_t g = 0;
  std::int64_t planned_offset_ns = 0;
};
// Finds this run's payload anywhere in `body` (raw, or inside chatd's message JSON).
// nullopt: no payload of this run; `foreign` is set when a payload of another run was found.
std::optional<payload_id> find_payload(std::string_view body, std::uint64_t nonce, bool* foreign = nullptr) noexcept;

enum class delivery { first, duplicate, reordered };

// What became of a send with a receipt header. The server owes each issued SEND exactly one
// answer: a RECEIPT, or an ERROR / soft error carrying its receipt-id.
enum class send_outcome : std::uint8_t {
  unsent,        // never issued (dropped, failed locally, or not planned)
  pending,       // issued, no answer yet
  receipted,     // RECEIPT
  rate_limited,  // soft error rate_limited, or ERROR "rate limit exceeded"
  overloaded,    // ERROR "server overloaded"
  not_accepted,  // ERROR "message not accepted" or a timed-out send (it may still be stored)
  other_error,   // any other ERROR / soft error with the receipt-id
};
inline constexpr std::size_t send_outcome_count = 7;
const char* to_string(send_outcome o) noexcept;
// The refusal an ERROR's message header or a soft error's code stands for (never unsent,
// pending or receipted).
send_outcome classify_refusal(std::string_view message_or_code) noexcept;

// Counts sends and deliveries per (send, receiver slot). Storage grows in chunks of
// chunk_sends sends (allocated on first touch, never per message) up to `max_sends`.
// Thread contract: mark_issued(g) and record_answer(g) from g's sender strand; deliver() for one (room, receiver
// slot) from one thread at a time (that receiver's strand); summarize() after every session
// has stopped.
class ledger {
 public:
  static constexpr std::uint64_t chunk_sends = 65536;

  ledger(const plan& p, std::uint64_t max_sends);
  ~ledger();
  ledger(const ledger&) = delete;
  ledger& operator=(const ledger&) = delete;

  std::uint64_t max_sends() const noexcept { return max_; }
  // Send g went out (a SEND was written or queued) as a room event of kind `kind` (--mix).
  // g < max_sends().
  void mark_issued(std::uint64_t g, event_index kind = event_index::message);
  // The kind mark_issued() recorded (message for a send never issued). On g's sender strand.
  event_index kind_of(std::uint64_t g);
  // Receiver in `receiver_slot` of room_of(g) got event g. g < max_sends(). Two order checks:
  // a message older than one already seen from the same sender in that room, and any event
  // whose `event_id` (the live id, a Kafka position: it grows along the room's one order) is
  // lower than the last this receiver saw in the room, count as reordered (once per delivery).
  delivery deliver(std::uint64_t g, std::uint32_t receiver_slot, std::optional<std::int64_t> event_id = std::nullopt);
  // Send g was answered (`o` is receipted or a refusal), on g's sender strand. Returns what
  // was recorded before: pending for a first answer, unsent for an answer to a send that was
  // never issued (nothing is recorded then), an earlier answer for a second one (kept).
  send_outcome record_answer(std::uint64_t g, send_outcome o);

  struct totals {
    std::uint64_t expected = 0;    // sends issued × members
    std::uint64_t delivered = 0;   // distinct (send, receiver) deliveries of issued sends
    std::uint64_t lost = 0;        // expected and never delivered
    std::uint64_t duplicated = 0;  // deliveries beyond the first
    std::uint64_t reordered = 0;   // first deliveries older than one already seen from that sender
    // Issued sends by outcome ([pending] = never answered), indexed by send_outcome.
    std::uint64_t outcomes[send_outcome_count] = {};
    // The same accounting restricted to receipted sends: what the server promised to deliver.
    std::uint64_t receipted_expected = 0;
    std::uint64_t receipted_delivered = 0;
    std::uint64_t receipted_lost = 0;
    std::uint64_t receipted_duplicated = 0;  // deliveries beyond the first (saturating at 127 a pair)
    std::uint64_t receipted_reordered = 0;
    // Sends refused (an ERROR / soft error answer) that reached a receiver all the same: the
    // "timed out, may still be stored" case.
    std::uint64_t refused_but_delivered = 0;
    std::uint64_t count(send_outcome o) const noexcept { return outcomes[static_cast<std::size_t>(o)]; }

    // The same counts by the kind of room event each send was (--mix), indexed by event_index.
    struct kind_totals {
      std::uint64_t issued = 0;
      std::uint64_t receipted = 0;
      std::uint64_t expected = 0;
      std::uint64_t delivered = 0;
      std::uint64_t lost = 0;
      std::uint64_t duplicated = 0;
      std::uint64_t reordered = 0;
    };
    kind_totals by_kind[event_count] = {};
  };
  totals summarize() const;

 private:
  struct chunk;
  chunk& chunk_for(std::uint64_t g);

  plan plan_;
  std::uint64_t max_;
  std::unique_ptr<std::atomic<chunk*>[]> chunks_;
  std::size_t chunk_count_;
  std::mutex grow_mutex_;
  std::vector<std::int64_t> last_seq_;    // [(room * M + receiver slot) * M + sender slot], messages only
  std::vector<std::int64_t> last_id_;     // per (room, receiver slot): the last event id seen
  std::vector<std::uint64_t> dup_;        // per (room, receiver slot)
  std::vector<std::uint64_t> reordered_;  // per (room, receiver slot)
};

}  // namespace chatload
