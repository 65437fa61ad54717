#include "kafka/topic_scan.hpp"

#include <chat/proto/names.hpp>

namespace dlt_replay {

namespace {
// One poll() waits at most this long, so a stalled partition is noticed within `timeout`.
constexpr std::chrono::milliseconds poll_step{200};
constexpr std::size_t poll_batch = 500;

// A scan waits for the end of each partition: a broker holding an empty fetch for the
// default 500 ms would stall every step (and the offset requests queued behind it).
chat::kafka::settings scan_settings(const chat::kafka::settings& s) {
  // The reader never joins or commits; the group is only named (ACLs may refer to it).
  chat::kafka::settings out{{"fetch.wait.max.ms", "100"},
                            {"group.id", std::string(chat::proto::consumer_groups::dlt_replay)}};
  out.insert(out.end(), s.begin(), s.end());  // the caller's settings win
  return out;
}
}  // namespace

topic_scanner::topic_scanner(const chat::kafka::settings& s, std::chrono::milliseconds timeout)
    : timeout_(timeout), admin_(s), reader_(scan_settings(s)) {}

void topic_scanner::require_cluster() {
  if (cluster_checked_) return;
  if (const auto error = admin_.ping(timeout_); !error.empty()) {
    throw kafka_failure("Kafka did not answer within " + std::to_string(timeout_.count() / 1000) + " s: " + error);
  }
  cluster_checked_ = true;
}

std::optional<int> topic_scanner::partitions(const std::string& topic) {
  require_cluster();
  const int n = admin_.partition_count(topic, timeout_);
  if (n < 0) return std::nullopt;
  return n;
}

chat::kafka::watermarks topic_scanner::watermarks_of(const std::string& topic, std::int32_t partition) {
  chat::kafka::watermarks w;
  if (const auto ec = reader_.query_watermarks(topic, partition, w, timeout_)) {
    throw kafka_failure("offsets of " + topic + " partition " + std::to_string(partition) + ": " + ec.message());
  }
  return w;
}

void topic_scanner::scan(const std::string& topic, const std::function<bool(chat::kafka::record&&)>& sink) {
  const auto count = partitions(topic);
  if (!count) throw kafka_failure("topic " + topic + " does not exist");
  // Every end first: the end of the scan is the topic's end when it began.
  std::vector<chat::kafka::watermarks> marks;
  for (std::int32_t p = 0; p < *count; ++p) marks.push_back(watermarks_of(topic, p));
  for (std::int32_t p = 0; p < *count; ++p) {
    const auto& w = marks[static_cast<std::size_t>(p)];
    if (w.high <= w.low) continue;
    if (!scan_partition(topic, p, w.low, w.high, sink)) break;
  }
  reader_.assign({});
}

bool topic_scanner::scan_partition(const std::string& topic, std::int32_t partition, std::int64_t from,
                                   std::int64_t end, const std::function<bool(chat::kafka::record&&)>& sink) {
  if (const auto ec = reader_.assign({{topic, partition, from}})) {
    throw kafka_failure("reading " + topic + " partition " + std::to_string(partition) + ": " + ec.message());
  }
  std::int64_t next = from;
  auto last_progress = std::chrono::steady_clock::now();
  std::string last_error;
  while (next < end) {
    std::vector<chat::kafka::topic_partition> at_end;
    std::error_code ec;
    auto records = reader_.poll(poll_batch, poll_step, at_end, ec);
    if (ec) last_error = ec.message();
    for (auto& r : records) {
      if (r.partition() != partition || r.topic() != topic) continue;
      if (r.offset() >= end) {
        next = end;
        break;
      }
      next = r.offset() + 1;
      if (!sink(std::move(r))) return false;
    }
    // The end of what is readable now: past `end`, or short of it when the rest are
    // transaction markers or an open transaction (read_committed).
    for (const auto& tp : at_end) {
      if (tp.partition == partition && tp.topic == topic) next = end;
    }
    if (!records.empty() || !at_end.empty()) {
      last_progress = std::chrono::steady_clock::now();
    } else if (std::chrono::steady_clock::now() - last_progress > timeout_) {
      throw kafka_failure("reading " + topic + " partition " + std::to_string(partition) + " stalled at offset " +
                          std::to_string(next) + " of " + std::to_string(end) +
                          (last_error.empty() ? std::string() : ": " + last_error));
    }
  }
  return true;
}

std::optional<chat::kafka::record> topic_scanner::read_one(const std::string& topic, std::int32_t partition,
                                                           std::int64_t offset) {
  const auto count = partitions(topic);
  if (!count) throw kafka_failure("topic " + topic + " does not exist");
  if (partition >= *count) return std::nullopt;
  const auto w = watermarks_of(topic, partition);
  if (offset < w.low || offset >= w.high) return std::nullopt;
  std::optional<chat::kafka::record> found;
  scan_partition(topic, partition, offset, w.high, [&](chat::kafka::record&& r) {
    if (r.offset() == offset) found.emplace(std::move(r));
    return false;  // the first record at or after `offset` decides
  });
  reader_.assign({});
  return found;
}

}  // namespace dlt_replay
