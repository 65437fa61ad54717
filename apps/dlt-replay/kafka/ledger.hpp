#pragma once
// The replay ledger on Kafka (format: core/ledger_entry.hpp). A compacted topic, by default
// chat::proto::topics::dlt_replay_ledger, shared by every SRE and machine that replays from the
// cluster.
#include "core/ledger_entry.hpp"
#include "kafka/topic_scan.hpp"

#include <chrono>
#include <cstddef>
#include <string>

namespace dlt_replay {

struct loaded_ledger {
  ledger_view view;
  std::size_t entries = 0;     // records read
  std::size_t unreadable = 0;  // records that were not ledger entries (ignored)
  bool exists = false;
};

// Reads the whole ledger topic; a topic that does not exist is an empty ledger. Throws
// kafka_failure when it cannot be read.
loaded_ledger load_ledger(topic_scanner& scanner, const std::string& topic);

// Creates the ledger topic when it is missing (1 partition, cleanup.policy=compact; where
// CreateTopics is unavailable, by a metadata request on clusters that auto-create topics).
// Throws kafka_failure when it still does not exist: nothing may be replayed then, since
// the run could not be recorded.
void ensure_ledger_topic(topic_scanner& scanner, const std::string& topic, std::chrono::milliseconds timeout);

}  // namespace dlt_replay
