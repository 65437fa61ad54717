#pragma once
// Which Kafka offsets a consumer may commit: per partition, the next offset to read
// (last processed + 1). Pure bookkeeping, no I/O; used by consumer_loop on its thread.
#include <chat/kafka/consumer.hpp>

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace chat::chatd::pipeline {

class offset_tracker {
 public:
  // Records that the record at `offset` is done. Offsets only move forward: an older
  // offset (a record delivered again after a rebalance) never lowers what is pending.
  void processed(std::string_view topic, std::int32_t partition, std::int64_t offset);

  // What to commit now: one entry per partition with uncommitted progress, offset = the
  // next to read. Ordered by (topic, partition).
  std::vector<kafka::topic_partition> pending() const;

  // The broker accepted these offsets: they are no longer pending (unless newer progress
  // was recorded meanwhile).
  void committed(const std::vector<kafka::topic_partition>& offsets);

  // Drops the pending progress of these partitions (they were revoked; the offsets of a
  // partition this member no longer owns must not be committed later).
  void forget(const std::vector<kafka::topic_partition>& partitions);

  // Pending progress of these partitions only (a last commit in on_revoke).
  std::vector<kafka::topic_partition> pending_of(const std::vector<kafka::topic_partition>& partitions) const;

  bool empty() const noexcept { return next_.empty(); }

 private:
  std::map<std::pair<std::string, std::int32_t>, std::int64_t, std::less<>> next_;
};

}  // namespace chat::chatd::pipeline
