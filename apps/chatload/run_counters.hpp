#pragma once
// The counts one run shares between its threads: the I/O threads (sessions), the open model's
// scheduler thread and the runner thread (progress, drain, results). Every member may be
// touched from any thread.
#include "churn.hpp"

#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>

namespace chatload {

// Errors by kind ("send: ...", "receipt_timeout", "session_closed: ..."), as the report lists them.
class error_counter {
 public:
  void count(std::string kind) {
    std::lock_guard lock(mutex_);
    ++by_kind_[std::move(kind)];
    ++total_;
  }
  std::uint64_t total() const {
    std::lock_guard lock(mutex_);
    return total_;
  }
  std::map<std::string, std::uint64_t> by_kind() const {
    std::lock_guard lock(mutex_);
    return by_kind_;
  }
  // "kind (n); kind (n)": why set-up failed.
  std::string summary() const {
    std::lock_guard lock(mutex_);
    std::string kinds;
    for (const auto& [k, v] : by_kind_) kinds += (kinds.empty() ? "" : "; ") + k + " (" + std::to_string(v) + ")";
    return kinds;
  }

 private:
  mutable std::mutex mutex_;
  std::map<std::string, std::uint64_t> by_kind_;
  std::uint64_t total_ = 0;
};

struct run_counters {
  // Sessions.
  std::atomic<std::uint64_t> ready{0};  // connected and every SUBSCRIBE receipted
  std::atomic<std::uint64_t> closed{0};
  std::atomic<std::uint64_t> failed{0};         // closed before the run ended
  std::atomic<std::uint64_t> sessions_done{0};  // sessions model: sent their last message
  // Messages.
  std::atomic<std::uint64_t> sent{0};
  std::atomic<std::uint64_t> dropped{0};  // open model: later than --late-limit, not sent
  std::atomic<std::uint64_t> send_errors{0};
  std::atomic<std::uint64_t> receipts{0};
  std::atomic<std::uint64_t> delivered{0};  // first delivery to each receiver
  std::atomic<std::uint64_t> receipt_timeouts{0};
  // MESSAGEs of a room subscription that are no room event (chat-event:read, a member's read
  // mark): not in the ledger.
  std::atomic<std::uint64_t> read_events{0};
  error_counter errors;
  // Answers to SENDs beyond the RECEIPTs: refusals (ERROR / soft error with the receipt-id)
  // by their ERROR message or "soft_error: <code>", second answers to one send, and answers
  // that came after the drain (the send stays unanswered).
  std::atomic<std::uint64_t> refused{0};
  std::atomic<std::uint64_t> answered_twice{0};
  std::atomic<std::uint64_t> answers_after_drain{0};
  // --mix: edits/deletes/reactions sent as messages (no own receipted message to target yet),
  // and message RECEIPTs without a message-id header (then nothing can target that message).
  std::atomic<std::uint64_t> mix_fallbacks{0};
  std::atomic<std::uint64_t> receipts_without_id{0};
  error_counter refusals;
  // Sessions that ended before the shutdown, by reason: the last ERROR's message, or
  // "connection: <why>" when the socket closed without one.
  error_counter disconnected;
  // --churn: drops, reconnects, recoveries (churn.hpp).
  churn_counters churn;

  // Open model: sends whose fate is known (a planned send is sent, dropped, failed, or not sent
  // because its session was reconnecting).
  std::uint64_t accounted_sends() const noexcept { return sent + dropped + send_errors + churn.unsent; }
};

}  // namespace chatload
