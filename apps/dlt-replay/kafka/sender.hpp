#pragma once
// Sends the planned records of a replay with one idempotent producer and writes a ledger
// entry for each one only after the broker acknowledged it. Blocking calls are for the
// command's thread; delivery reports run on the producer's poll thread.
#include "core/ledger_entry.hpp"
#include "core/replay_plan.hpp"

#include <chat/kafka/producer.hpp>

#include <chrono>
#include <cstddef>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace dlt_replay {

struct send_outcome {
  bool done = false;      // a delivery report arrived (or produce() refused the record)
  bool ok = false;        // the target acknowledged the record
  std::string error;      // why not
  position written;       // where it went, when ok
  bool recorded = false;  // the ledger acknowledged its entry
  std::string ledger_error;
};

class replay_sender {
 public:
  // `count`: how many records send() will be called for (indexes 0..count-1).
  replay_sender(const chat::kafka::settings& s, std::string ledger_topic, std::size_t count);
  ~replay_sender();
  replay_sender(const replay_sender&) = delete;
  replay_sender& operator=(const replay_sender&) = delete;

  // Queues record `index`. `entry` is its ledger entry; target position and time are
  // filled in on acknowledgement. Waits while the local queue is full, up to `timeout`;
  // then the record fails.
  void send(std::size_t index, const outgoing_record& out, ledger_entry entry, std::chrono::milliseconds timeout);

  // Waits up to `timeout` for every report (records and ledger entries), then stops the
  // producer: whatever is still unanswered fails as "not acknowledged".
  void finish(std::chrono::milliseconds timeout);

  // Outcome of record `index`; final after finish().
  send_outcome outcome(std::size_t index) const;

 private:
  void on_delivery(const chat::kafka::delivery_report& report);

  std::string ledger_topic_;
  mutable std::mutex mutex_;
  std::vector<send_outcome> outcomes_;
  std::vector<ledger_entry> entries_;
  std::vector<std::string> ledger_keys_;
  // Last: destroyed (stopped) first, while the state its handler uses still exists.
  std::unique_ptr<chat::kafka::producer> producer_;
};

}  // namespace dlt_replay
