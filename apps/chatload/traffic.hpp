#pragma once
// The messages of a run: writing each SEND (payload, identity headers, the dialect's body and
// destination), and accounting for what comes back — RECEIPTs and MESSAGEs checked against the
// delivery ledger and timed from their planned send time. Shared by both load models.
//
// Threads: send(), send_planned(), on_message() and count_receipt() run on the session's strand
// and record into this_worker_stats(); start() is called on the runner thread before any send.
#include "accounting.hpp"
#include "destinations.hpp"
#include "run_counters.hpp"
#include "runner.hpp"
#include "session_pool.hpp"

#include <atomic>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace chatload {

// A refusal of one of this run's sends: an ERROR or a soft error carrying its receipt-id.
struct refusal {
  std::uint64_t g = 0;
  send_outcome outcome = send_outcome::other_error;
  std::string text;  // the ERROR's message, or "soft_error: <code>"
};

// The send a receipt id names ("s<g>", g < max_sends); nullopt for any other id.
std::optional<std::uint64_t> send_of_receipt_id(std::string_view receipt_id, std::uint64_t max_sends) noexcept;
// The refusal an ERROR frame carries: its receipt-id names one of the sends (< max_sends).
std::optional<refusal> refusal_of_error(const chat::stomp::frame& error, std::uint64_t max_sends);
// The refusal a soft error body (docs/stomp.md: {"code","message","destination","receiptId"})
// carries; nullopt without a receiptId naming one of the sends.
std::optional<refusal> refusal_of_soft_error(std::string_view body, std::uint64_t max_sends);

class traffic {
 public:
  // `max_sends` bounds the ledger (the open schedule, or --max-messages).
  traffic(const run_options& options, const plan& p, std::uint64_t nonce, std::uint64_t max_sends,
          const stomp_dialect& dialect, run_counters& counters);

  // The first planned send is due at t0_ns (steady clock); planned offsets count from it.
  void start(std::int64_t t0_ns) noexcept { t0_ns_ = t0_ns; }
  std::int64_t t0_ns() const noexcept { return t0_ns_.load(std::memory_order_relaxed); }
  // No send is planned at or after t0 + end_offset_ns(): ramp-up + warm-up + duration.
  std::int64_t end_offset_ns() const noexcept { return end_offset_ns_; }

  // Writes send g (in sub's room) from s, planned at planned_ns; counts it sent or failed.
  std::error_code send(session& s, subscription& sub, std::uint64_t g, std::int64_t planned_ns, std::int64_t now);
  // Open model: send g from s at its planned time, or drop it when --late-limit has passed.
  void send_planned(session& s, std::uint64_t g, std::int64_t planned_ns);

  // A MESSAGE: a delivery, or a soft error (returned when it refuses one of the sends).
  std::optional<refusal> on_message(session& s, chat::stomp::frame& f);
  // A RECEIPT for one of this run's SENDs ("s<g>"): counted, and g returned; nullopt otherwise.
  std::optional<std::uint64_t> count_receipt(std::string_view receipt_id);
  // On s's strand, the RECEIPT of send g: when g was a message, its message-id header makes it a
  // target for s's later edits, deletes and reactions (--mix).
  void remember_receipted(session& s, std::uint64_t g, const chat::stomp::frame& receipt);
  // On g's sender strand: send g was answered at `now` with `o` (receipted, or a refusal whose
  // ERROR message / soft error is `text`). The first answer is recorded, and timed and put in
  // its phase and second when planned_ns (absolute) is known; a second answer, or any answer
  // after close_answers(), is only counted.
  void answer(std::uint64_t g, send_outcome o, std::optional<std::int64_t> planned_ns, std::int64_t now,
              std::string_view text);
  // The end of the drain: answers from now on come too late (their sends stay unanswered).
  void close_answers() noexcept { answers_closed_ = true; }

  // The phase of the measured window holding a planned offset; nullopt before or after it.
  std::optional<std::size_t> phase_of(std::int64_t offset_ns) const noexcept;
  std::size_t phase_count() const noexcept { return phase_starts_ns_.size(); }

  const ledger& deliveries() const noexcept { return ledger_; }

 private:
  const run_options& opt_;
  const plan& plan_;
  std::uint64_t nonce_;
  const stomp_dialect& dialect_;
  run_counters& counters_;
  std::int64_t measure_start_ns_;  // planned offsets before this are ramp-up / warm-up
  std::int64_t end_offset_ns_;
  std::vector<std::int64_t> phase_starts_ns_;  // planned offset where each phase begins
  ledger ledger_;
  std::atomic<std::int64_t> t0_ns_{0};
  std::atomic<bool> answers_closed_{false};
};

}  // namespace chatload
