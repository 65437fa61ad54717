#pragma once
// Reads partitions from explicit offsets without joining a consumer group: for tools that
// scan a topic (dlt-replay reads a dead-letter topic to its current end). Thin RAII over
// librdkafka; no librdkafka type appears in this header.
#include <chat/kafka/consumer.hpp>
#include <chat/kafka/errc.hpp>
#include <chat/kafka/settings.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <system_error>
#include <vector>

namespace chat::kafka {

// Low (oldest kept) and high (next to be written) offsets of one partition.
struct watermarks {
  std::int64_t low = -1;
  std::int64_t high = -1;
};

// A consumer that never joins a group, subscribes or commits: assign() decides what it
// reads. Defaults, applied before the caller's settings (which win): enable.auto.commit=
// false, enable.auto.offset.store=false, enable.partition.eof=true, group.id=
// chat-kafka-reader. The group is never joined (librdkafka needs a group.id for its consumer
// queue); a cluster with ACLs may still want the client to name one it may describe.
//
// Threads: every method is for one thread. Records returned by poll() keep the client
// alive (see record), so they may outlive the reader.
class reader {
 public:
  // Throws std::runtime_error when a setting is invalid.
  explicit reader(const settings& s);
  ~reader();
  reader(const reader&) = delete;
  reader& operator=(const reader&) = delete;

  // Asks the partition's leader for its watermarks (one round trip, up to `timeout`).
  std::error_code query_watermarks(const std::string& topic, std::int32_t partition, watermarks& out,
                                   std::chrono::milliseconds timeout);

  // Replaces the assignment: reads each partition from its `offset` (an absolute offset,
  // or -2 for the oldest record kept). An empty vector stops reading.
  std::error_code assign(const std::vector<topic_partition>& partitions);

  // Returns up to `max` records, waiting at most `timeout` for the first; once one has
  // arrived it only takes what is already fetched. Each time an assigned partition has
  // been read to its end (nothing more to fetch now) that partition is appended to
  // `at_end`, with .offset = the next offset to be written. A consumer error sets `ec`
  // and returns the records gathered before it; `ec` is cleared otherwise.
  std::vector<record> poll(std::size_t max, std::chrono::milliseconds timeout, std::vector<topic_partition>& at_end,
                           std::error_code& ec);

 private:
  struct impl;  // shared with the records, which keep the client alive
  std::shared_ptr<impl> impl_;
};

}  // namespace chat::kafka
