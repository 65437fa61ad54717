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
#include <string_view>
#include <system_error>

namespace chatload {

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

  void on_message(session& s, chat::stomp::frame& f);
  // A RECEIPT for one of this run's SENDs ("s<g>"): counted, and g returned; nullopt otherwise.
  std::optional<std::uint64_t> count_receipt(std::string_view receipt_id);
  // Times a RECEIPT that arrived at `now` for a send planned at planned_ns.
  void record_receipt(std::int64_t planned_ns, std::int64_t now);

  const ledger& deliveries() const noexcept { return ledger_; }

 private:
  const run_options& opt_;
  const plan& plan_;
  std::uint64_t nonce_;
  const stomp_dialect& dialect_;
  run_counters& counters_;
  std::int64_t measure_start_ns_;  // planned offsets before this are ramp-up / warm-up
  std::int64_t end_offset_ns_;
  ledger ledger_;
  std::atomic<std::int64_t> t0_ns_{0};
};

}  // namespace chatload
