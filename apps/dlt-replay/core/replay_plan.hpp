#pragma once
// What `replay` does with each selected dead letter, decided before anything is sent (the
// same decisions print for --dry-run): the record that goes out, where, and why a record
// is not sent. Pure: the ledger, the partition counts and the clock come in as values.
#include "core/dead_letter.hpp"
#include "core/ledger_entry.hpp"

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace dlt_replay {

// A record to produce.
struct outgoing_record {
  std::string topic;
  std::int32_t partition = -1;  // -1: chosen from the key by the producer's partitioner
  std::optional<std::string> key;
  std::string value;
  std::vector<header> headers;
};

enum class replay_action {
  send,              // to the original topic (or --to)
  park,              // replayed too often: to --park-topic instead
  already_done,      // the ledger says an earlier run replayed or parked this dead letter
  same_origin,       // another dead letter of the same original record is (or was) replayed
  over_max_replays,  // refused: dlt-replay-count reached --max-replays, no --park-topic
  no_target,         // no original topic in the headers and no --to
  target_missing,    // the target topic does not exist
};

std::string_view to_string(replay_action a) noexcept;

struct replay_options {
  std::optional<std::string> to_topic;
  std::optional<std::string> park_topic;
  std::int32_t max_replays = 3;  // refuse a record whose dlt-replay-count is >= this
  bool restart = false;          // ignore what the ledger says was done
};

struct plan_item {
  replay_action action = replay_action::send;
  outgoing_record out;  // send and park only
  std::string reason;   // one line for humans, for every action but send
};

// Partition count of a topic; -1 when it does not exist.
using partition_count_fn = std::function<int(const std::string& topic)>;

// Plans the dead letters of one run, in order. Remembers the origins it planned to send,
// so two dead letters of one original record (e.g. both consumer groups dead-lettered it)
// are replayed once.
class replay_planner {
 public:
  replay_planner(replay_options options, const ledger_view& ledger, partition_count_fn partitions, std::int64_t now_ms);

  plan_item plan(const dead_letter& d);

 private:
  replay_options options_;
  const ledger_view& ledger_;
  partition_count_fn partitions_;
  std::int64_t now_ms_;
  std::set<std::string> planned_origins_;
};

// The headers of a replayed record: the dead letter's own headers minus every dead-letter
// header (dlt-*, kafka_dlt-*, __connect.errors.*), plus dlt-replayed-from
// ("<dlt topic>:<partition>:<offset>"), dlt-replay-count (the dead letter's count + 1) and
// dlt-replayed-at (Unix ms), all decimal text.
std::vector<header> replay_headers(const dead_letter& d, std::int64_t now_ms);

// The headers of a parked record: every header of the dead letter (it stays a dead letter
// that dlt-replay can read) plus dlt-parked-from and dlt-parked-at.
std::vector<header> park_headers(const dead_letter& d, std::int64_t now_ms);

// What a run did.
struct replay_summary {
  std::size_t selected = 0;    // dead letters that passed the filters
  std::size_t replayed = 0;    // acknowledged by the target topic
  std::size_t parked = 0;      // acknowledged by the park topic
  std::size_t skipped = 0;     // already_done, same_origin
  std::size_t refused = 0;     // over_max_replays
  std::size_t failed = 0;      // no_target, target_missing, produce failed
  std::size_t unrecorded = 0;  // sent, but the ledger write failed: a re-run sends them again

  void count(replay_action a);  // the planning outcomes that are final (not send/park)
};

// 0: every selected record was replayed, parked or had been already; 3: some were refused
// or failed while others went; 1: none went and some failed, or progress was not recorded.
int exit_code(const replay_summary& s) noexcept;

}  // namespace dlt_replay
