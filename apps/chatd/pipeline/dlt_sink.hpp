#pragma once
// The durable poison sink (docs/topics.md): writes a record that no retry can process to
// <topic>.dlt on the same partition, with the same key and value, its original headers
// (so a replayed record that fails again keeps its dlt-replay-count) and the dlt-*
// headers: original topic/partition/offset/timestamp, consumer group, exception class
// and message, attempts, failed-at. Numbers and times are decimal text, times in Unix
// milliseconds (the encoding dlt-replay reads; docs/pipeline.md).
#include "pipeline/poison_sink.hpp"

#include <chat/kafka/producer.hpp>

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>

namespace chat::chatd::pipeline {

class dlt_poison_sink final : public poison_sink {
 public:
  // `on_written(dlt_topic)` runs after each acknowledged dead letter (metrics).
  // Throws std::runtime_error when a Kafka setting is invalid.
  dlt_poison_sink(const kafka::settings& producer_settings, std::string consumer_group,
                  std::chrono::milliseconds timeout, std::function<void(const std::string&)> on_written = {});
  ~dlt_poison_sink() override;

  // Blocks the consumer's thread until the broker acknowledged the dead letter (or the
  // timeout passed: then false, and the loop retries instead of moving on).
  bool accept(const kafka::record& r, const record_failure& failure, int attempts) override;
  bool durable() const noexcept override { return true; }

 private:
  void on_delivery(const kafka::delivery_report& report);

  std::string group_;
  std::chrono::milliseconds timeout_;
  std::function<void(const std::string&)> on_written_;
  std::mutex mutex_;
  std::condition_variable cv_;
  std::map<std::uint64_t, kafka::delivery_report> done_;
  std::uint64_t next_cookie_ = 1;
  std::unique_ptr<kafka::producer> producer_;  // last: its thread calls on_delivery
};

}  // namespace chat::chatd::pipeline
