#pragma once
// The contract between the consumer loop (consumer_loop.hpp) and what a consumer group
// does with its records (persistence, broadcast, read receipts).
//
// A handler gets a batch of records of one or several partitions, each partition's in
// offset order, and reports per record what went wrong. The loop commits the Kafka
// offsets only after the handler's work is done, so every handler must be idempotent:
// after an infrastructure failure, a crash or a rebalance the same records come again.
#include <chat/kafka/consumer.hpp>

#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace chat::chatd::pipeline {

// How a single record failed. The seam for the dead-letter topics (docs/topics.md): a poison
// record goes to the poison sink (dlt_poison_sink: <topic>.dlt with the dlt-* headers), a
// retryable one is retried with the batch.
enum class failure_kind {
  poison,     // no retry can fix it: unparseable, schema-invalid, unknown room or sender
  retryable,  // may succeed later (a dependency refused this record for now)
};

struct record_failure {
  std::size_t index = 0;  // position in the batch
  failure_kind kind = failure_kind::poison;
  std::string error_class;  // short stable name ("invalid_json", "unknown_room", ...): dlt-exception-class
  std::string message;      // one sentence for humans: dlt-exception-message
};

struct batch_outcome {
  // Set when the batch as a whole could not be processed for an infrastructure reason
  // (PostgreSQL or Redis unreachable, a transaction that could not commit). Nothing of
  // the batch counts as done; `failures` is ignored.
  std::optional<std::string> infra_error;
  // The records that failed; every record not listed here is done.
  std::vector<record_failure> failures;

  static batch_outcome infra(std::string error) {
    batch_outcome o;
    o.infra_error = std::move(error);
    return o;
  }
};

class batch_handler {
 public:
  virtual ~batch_handler() = default;

  // Processes `batch`. Called on the loop's thread only. Must not throw: every failure
  // is reported through the outcome.
  virtual batch_outcome handle(std::span<const kafka::record> batch) = 0;

  // Called after handle() succeeded and the loop tried to commit the offsets, for work
  // that must follow the commit and may fail without consequence for the records (the
  // persistence consumer refreshes the Redis unread cache here). Must not throw.
  virtual void after_commit() {}

  // Called on the loop's thread when a poll brought nothing (at most every ~100 ms), for
  // housekeeping such as retrying a failed cache invalidation. Must not throw.
  virtual void on_idle() {}
};

}  // namespace chat::chatd::pipeline
