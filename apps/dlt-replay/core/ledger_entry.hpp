#pragma once
// The replay ledger's records and what a run learns from them (the Kafka side is
// kafka/ledger.hpp). One record per dead letter that was replayed or parked, written only
// after the broker acknowledged that record:
//   key   "<dlt topic>:<partition>:<offset>"
//   value {"v":1,"action":"replayed"|"parked","dlt":{"topic","partition","offset"},
//          "origin":{"topic","partition","offset"}|null,
//          "target":{"topic","partition","offset"},"replayCount":N,"at":"<RFC 3339>",
//          "by":"<user>@<host>"}
// The key makes the topic compactable: the latest entry per dead letter is all a run needs.
#include "core/dead_letter.hpp"

#include <chat/proto/names.hpp>

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>

namespace dlt_replay {

// Where progress is recorded unless --ledger-topic says otherwise.
inline constexpr std::string_view default_ledger_topic = chat::proto::topics::dlt_replay_ledger;

enum class ledger_action { replayed, parked };

struct ledger_entry {
  ledger_action action = ledger_action::replayed;
  position dlt;
  std::optional<position> origin;  // when the headers named it completely
  position target;                 // where the record went
  std::int32_t replay_count = 0;   // dlt-replay-count written on the replayed record
  std::int64_t at_ms = 0;
  std::string by;
};

std::string ledger_key(const position& dlt);
std::string encode_ledger_entry(const ledger_entry& e);
std::optional<ledger_entry> decode_ledger_entry(std::string_view value);

// The origin of a dead letter as a position, when topic, partition and offset are known.
std::optional<position> origin_of(const dead_letter_info& info);

// What the ledger says was done.
class ledger_view {
 public:
  void add(const ledger_entry& e);
  bool has_dead_letter(const position& dlt) const;
  // True when a dead letter with this origin was replayed (parking does not count).
  bool has_origin(const position& origin) const;
  std::size_t size() const noexcept { return dead_letters_.size(); }

 private:
  std::set<std::string> dead_letters_;
  std::set<std::string> origins_;
};

}  // namespace dlt_replay
