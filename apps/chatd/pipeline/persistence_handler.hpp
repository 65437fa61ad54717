#pragma once
// Consumer group chat-persistence (docs/architecture.md, docs/schema.md): chat.messages -> PostgreSQL.
//
// Per batch, in ONE transaction (store::message_writer; the SQL is in store/), a fixed
// number of statements however many records (docs/pipeline.md):
//   1. which rooms and senders of the batch exist (a record of an unknown room or sender
//      is poison);
//   2. INSERT the `message` events from unnest() arrays ... ON CONFLICT (message_key) DO
//      NOTHING RETURNING the rows actually inserted (a messageKey seen before, e.g. a client
//      retry or a redelivery, inserts nothing: the first record's id wins); the thread roots
//      of the inserted replies get their reply_count and last_reply_at;
//   3. lock the member rows of the rooms that got new messages, in (room, user) order,
//      then one UPDATE adds to every other member's unread_count the new messages after
//      their last_read_message_id (read receipts lock the same rows, so the two never
//      lose each other's changes). Only `message` events count as unread;
//   4. INSERT the other room events into room_events ON CONFLICT (message_key) DO NOTHING
//      RETURNING the new ones, load their targets' state in one query, fold the new events in
//      partition order (pipeline/event_fold.hpp: --edit-window, delete is terminal, net
//      reactions, at most 3 pins) and write the result set-based; events the fold drops
//      stay with applied = false and are logged here at info, never dead-lettered;
//   4b. records of a room deleted meanwhile (deleted_rooms, sql/0008; the batch's rooms are locked
//      against deletion by step 1) are dropped and logged at info, never dead-lettered: the
//      room and its history are gone on purpose (docs/pipeline.md "Deleted rooms");
//   5. the batch's progress per partition (persistence_progress, sql/0004: the offset after
//      its last record, whatever became of the records: stored, duplicate, dropped, poison),
//      one more statement; recovery (docs/stomp.md "Recovery") waits for it;
//   6. COMMIT.
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

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace chat::chatd::pipeline {

// What storing the decoded records of a batch came to.
struct persist_report {
  std::optional<std::string> infra_error;  // set: nothing of the batch counts as done
  std::vector<record_failure> failures;    // records refused (poison), by batch index
  std::size_t inserted = 0;
  std::vector<unread_entry> unread;  // for the unread cache, after the Kafka commit
  std::size_t events_new = 0;        // rows new in room_events (applied or dropped)
  struct dropped_event {
    std::size_t index = 0;  // batch position
    std::int32_t partition = 0;
    std::int64_t offset = 0;
    std::string_view reason;  // pipeline/event_fold.hpp
  };
  std::vector<dropped_event> dropped;  // new events the fold dropped (room_events.applied = false)
  // Records stored nowhere because their room was deleted (store::persisted::records_dropped).
  std::vector<dropped_event> records_dropped;
};

// The store half of a batch: `records` (decoded, one per messageKey) in one write; when
// the database refuses the batch because of some record's data, record by record, so only
// the offending records become poison. Any other failure is an infrastructure failure.
// Precondition: `records` is not empty.
// `fold` folds the new room events (pipeline/event_fold.hpp). `progress` (the whole batch's,
// partition_progress_of) is written with the rows; when the batch is stored record by record,
// after the last of them, in a transaction of its own.
persist_report persist_records(store::message_writer& writer, const std::vector<message_record>& records,
                               const store::event_folder& fold,
                               std::span<const store::partition_progress> progress = {});

// Per partition of `batch` (anything with partition() and offset(), e.g. kafka::record): the
// offset after its last record, partitions ascending.
template <class Records>
std::vector<store::partition_progress> partition_progress_of(const Records& batch) {
  std::vector<store::partition_progress> out;
  for (const auto& r : batch) {
    const auto it = std::find_if(out.begin(), out.end(), [&](const auto& p) { return p.partition == r.partition(); });
    if (it == out.end()) {
      out.push_back({r.partition(), r.offset() + 1});
    } else {
      it->next_offset = std::max(it->next_offset, r.offset() + 1);
    }
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.partition < b.partition; });
  return out;
}

struct persistence_stats {
  std::atomic<std::uint64_t> inserted{0};         // new rows in messages
  std::atomic<std::uint64_t> duplicates{0};       // records whose messageKey was already stored
  std::atomic<std::uint64_t> events_applied{0};   // new rows in room_events that took effect
  std::atomic<std::uint64_t> events_dropped{0};   // new rows in room_events the fold dropped
  std::atomic<std::uint64_t> records_dropped{0};  // records of deleted rooms, stored nowhere
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
  std::chrono::milliseconds edit_window_;
  std::unique_ptr<store::message_writer> writer_;
  redis::client redis_;
  unread_cache cache_;
  std::vector<unread_entry> cache_updates_;  // from the last handled batch
  persistence_stats stats_;
};

}  // namespace chat::chatd::pipeline
