#pragma once
// Consumer group chat-persistence (docs/architecture.md, docs/schema.md): chat.messages -> PostgreSQL.
//
// Per batch, in ONE transaction (store::message_writer; the SQL is in store/):
//   1. which rooms and senders of the batch exist (a message of an unknown room or sender
//      is poison);
//   2. INSERT all messages from unnest() arrays ... ON CONFLICT (message_key) DO NOTHING
//      RETURNING the rows actually inserted (a messageKey seen before, e.g. a client retry
//      or a redelivery, inserts nothing: the first record's id wins);
//   3. lock the member rows of the rooms that got new messages, in (room, user) order,
//      then one UPDATE adds to every other member's unread_count the new messages after
//      their last_read_message_id (read receipts lock the same rows, so the two never
//      lose each other's changes);
//   4. COMMIT.
// Then the loop commits the Kafka offsets, then after_commit() writes the new unread
// counts to the Redis cache (unread_cache.hpp).
//
// A statement refused because of the data (SQLSTATE 22/23, e.g. a room deleted between
// check and insert) makes the handler store the batch record by record, each in its own
// transaction, so only the offending records become poison. Everything else (connection
// lost, server down, deadlock) is an infrastructure failure: the loop retries the batch.
#include "config/config.hpp"
#include "pipeline/batch_handler.hpp"
#include "pipeline/records.hpp"
#include "pipeline/unread_cache.hpp"
#include "redis/redis_client.hpp"
#include "store/message_writer.hpp"

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace chat::chatd::pipeline {

// What storing the decoded records of a batch came to.
struct persist_report {
  std::optional<std::string> infra_error;  // set: nothing of the batch counts as done
  std::vector<record_failure> failures;    // records refused (poison), by batch index
  std::size_t inserted = 0;
  std::vector<unread_entry> unread;  // for the unread cache, after the Kafka commit
};

// The store half of a batch: `records` (decoded, one per messageKey) in one write; when
// the database refuses the batch because of some record's data, record by record, so only
// the offending records become poison. Any other failure is an infrastructure failure.
// Precondition: `records` is not empty.
persist_report persist_records(store::message_writer& writer, const std::vector<message_record>& records);

struct persistence_stats {
  std::atomic<std::uint64_t> inserted{0};    // new rows in messages
  std::atomic<std::uint64_t> duplicates{0};  // records whose messageKey was already stored
};

class persistence_handler final : public batch_handler {
 public:
  // Stores through the PostgreSQL writer (store::make_pg_message_writer).
  explicit persistence_handler(const config& cfg);
  persistence_handler(const config& cfg, std::unique_ptr<store::message_writer> writer);

  batch_outcome handle(std::span<const kafka::record> batch) override;
  void after_commit() override;
  void on_idle() override;

  const persistence_stats& stats() const noexcept { return stats_; }

 private:
  std::size_t max_content_chars_;
  std::unique_ptr<store::message_writer> writer_;
  redis::client redis_;
  unread_cache cache_;
  std::vector<unread_entry> cache_updates_;  // from the last handled batch
  persistence_stats stats_;
};

}  // namespace chat::chatd::pipeline
