#pragma once
// Reads what a topic holds right now, without joining a consumer group: each partition
// from its oldest kept record to the end it had when the scan began, partitions in
// order, offsets in order. Blocks; for the command's own thread.
#include <chat/kafka/admin.hpp>
#include <chat/kafka/reader.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>

namespace dlt_replay {

// A Kafka failure a command reports and exits 1 for.
class kafka_failure : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class topic_scanner {
 public:
  // `timeout`: how long one step may wait (metadata, watermarks, the next record).
  topic_scanner(const chat::kafka::settings& s, std::chrono::milliseconds timeout);

  // Partition count of `topic` from the cluster's metadata (asking for every topic, so an
  // unknown topic is not auto-created); nullopt when it does not exist. Throws
  // kafka_failure when the cluster does not answer.
  std::optional<int> partitions(const std::string& topic);

  // Calls `sink` for each record until it returns false. Throws kafka_failure when the
  // topic does not exist or a partition makes no progress for `timeout`.
  void scan(const std::string& topic, const std::function<bool(chat::kafka::record&&)>& sink);

  // The record at partition:offset; nullopt when the partition holds no record there.
  std::optional<chat::kafka::record> read_one(const std::string& topic, std::int32_t partition, std::int64_t offset);

  chat::kafka::admin& admin() { return admin_; }

 private:
  // Reads one partition from `from` up to (not including) `end`.
  bool scan_partition(const std::string& topic, std::int32_t partition, std::int64_t from, std::int64_t end,
                      const std::function<bool(chat::kafka::record&&)>& sink);
  chat::kafka::watermarks watermarks_of(const std::string& topic, std::int32_t partition);
  void require_cluster();

  std::chrono::milliseconds timeout_;
  chat::kafka::admin admin_;
  chat::kafka::reader reader_;
  bool cluster_checked_ = false;
};

}  // namespace dlt_replay
