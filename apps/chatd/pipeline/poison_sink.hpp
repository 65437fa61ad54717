#pragma once
// Where the consumer loop puts records that are not to be retried any more.
//
// Today's sink logs the record (topic/partition/offset, group, error) and lets the
// partition move on. The dead-letter issue adds a sink that writes the record unchanged
// to <topic>.dlt on the same partition with the dlt-* headers (docs/topics.md); that sink is
// `durable()`, which also enables --infra-failure-policy=dead-letter (see
// consumer_loop.hpp).
#include "pipeline/batch_handler.hpp"

#include <chat/kafka/consumer.hpp>

#include <string>

namespace chat::chatd::pipeline {

class poison_sink {
 public:
  virtual ~poison_sink() = default;

  // Takes `r`, which failed `attempts` times with `failure`. Returns false when the record
  // could not be taken (e.g. the DLT producer failed): the loop then retries the batch
  // instead of committing past the record. Called on the loop's thread. Must not throw.
  virtual bool accept(const kafka::record& r, const record_failure& failure, int attempts) = 0;

  // True when accepted records are kept somewhere they can be replayed from (a DLT).
  // Only then may the loop give up on records that failed for infrastructure reasons.
  virtual bool durable() const noexcept = 0;
};

// Logs every record at warn level and drops it (not durable).
class logging_poison_sink final : public poison_sink {
 public:
  explicit logging_poison_sink(std::string consumer_group) : group_(std::move(consumer_group)) {}

  bool accept(const kafka::record& r, const record_failure& failure, int attempts) override;
  bool durable() const noexcept override { return false; }

 private:
  std::string group_;
};

}  // namespace chat::chatd::pipeline
