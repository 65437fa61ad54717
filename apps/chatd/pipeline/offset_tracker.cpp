#include "pipeline/offset_tracker.hpp"

#include <algorithm>

namespace chat::chatd::pipeline {

void offset_tracker::processed(std::string_view topic, std::int32_t partition, std::int64_t offset) {
  auto [it, inserted] = next_.try_emplace({std::string(topic), partition}, offset + 1);
  if (!inserted) it->second = std::max(it->second, offset + 1);
}

std::vector<kafka::topic_partition> offset_tracker::pending() const {
  std::vector<kafka::topic_partition> out;
  out.reserve(next_.size());
  for (const auto& [tp, next] : next_) out.push_back({tp.first, tp.second, next});
  return out;
}

void offset_tracker::committed(const std::vector<kafka::topic_partition>& offsets) {
  for (const auto& c : offsets) {
    const auto it = next_.find(std::make_pair(c.topic, c.partition));
    if (it != next_.end() && it->second <= c.offset) next_.erase(it);
  }
}

void offset_tracker::forget(const std::vector<kafka::topic_partition>& partitions) {
  for (const auto& p : partitions) next_.erase(std::make_pair(p.topic, p.partition));
}

std::vector<kafka::topic_partition> offset_tracker::pending_of(
    const std::vector<kafka::topic_partition>& partitions) const {
  std::vector<kafka::topic_partition> out;
  for (const auto& p : partitions) {
    const auto it = next_.find(std::make_pair(p.topic, p.partition));
    if (it != next_.end()) out.push_back({p.topic, p.partition, it->second});
  }
  return out;
}

}  // namespace chat::chatd::pipeline
