#include "pipeline/kafka_log_positions.hpp"

#include <chat/kafka/producer.hpp>
#include <chat/kafka/reader.hpp>
#include <chat/log/log.hpp>
#include <chat/proto/names.hpp>

#include <algorithm>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace chat::chatd {

namespace {

using namespace std::chrono_literals;

log_end refused_log_end(std::string why) {
  log_end e;
  e.error = std::move(why);
  return e;
}

}  // namespace

kafka_log_positions::kafka_log_positions(const config& cfg) : cfg_(cfg), thread_([this] { run(); }) {}

kafka_log_positions::~kafka_log_positions() { stop(); }

void kafka_log_positions::room_log_end(std::int64_t room_id, std::function<void(const log_end&)> done) {
  {
    std::lock_guard lock(mutex_);
    if (!stopping_ && waiting_.size() < max_waiting) {
      waiting_.emplace_back(room_id, std::move(done));
      wake_.notify_one();
      return;
    }
  }
  done(refused_log_end(stopping_ ? "stopping" : "too many questions waiting"));
}

void kafka_log_positions::stop() {
  {
    std::lock_guard lock(mutex_);
    if (stopping_ && !thread_.joinable()) return;
    stopping_ = true;
    wake_.notify_all();
  }
  if (thread_.joinable()) thread_.join();
}

void kafka_log_positions::run() {
  std::unique_ptr<kafka::reader> reader;
  const std::string topic(proto::topics::messages);
  const auto timeout = std::clamp<std::chrono::milliseconds>(cfg_.dependency_timeout, 100ms, 5000ms);
  for (;;) {
    std::deque<std::pair<std::int64_t, std::function<void(const log_end&)>>> batch;
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [this] { return stopping_ || !waiting_.empty(); });
      batch.swap(waiting_);
      if (stopping_) {
        lock.unlock();
        for (auto& [room, done] : batch) done(refused_log_end("stopping"));
        return;
      }
    }
    if (!reader) {
      auto s = kafka_settings(cfg_);
      s.emplace_back("client.id", "chatd-" + cfg_.node_id + "-recovery");
      try {
        reader = std::make_unique<kafka::reader>(s);
      } catch (const std::exception& e) {
        log::warn("cannot query chat.messages' ends for recoveries", {{"error", e.what()}});
        for (auto& [room, done] : batch) done(refused_log_end(e.what()));
        continue;
      }
    }
    // One query per partition for everything asked so far: each was asked before it started.
    std::map<std::int32_t, log_end> ends;
    for (const auto& [room, done] : batch) {
      const auto partition = kafka::key_partition(std::to_string(room), cfg_.kafka_partitions);
      if (ends.contains(partition)) continue;
      log_end e;
      e.partition = partition;
      kafka::watermarks w;
      if (const auto ec = reader->query_watermarks(topic, partition, w, timeout)) {
        e.error = topic + "[" + std::to_string(partition) + "] watermarks: " + ec.message();
      } else {
        e.ok = true;
        e.high_watermark = w.high;
      }
      ends.emplace(partition, std::move(e));
    }
    for (auto& [room, done] : batch) {
      done(ends.at(kafka::key_partition(std::to_string(room), cfg_.kafka_partitions)));
    }
  }
}

}  // namespace chat::chatd
