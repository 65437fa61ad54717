#pragma once
// Consumer group chat-read-receipts (docs/rest.md POST /rooms/{id}/read, docs/topics.md):
// chat.read-receipts -> chat_room_members, then the Redis unread cache.
//
// Per batch, receipts of the same (room, user) are merged (the largest lastReadMessageId),
// then in ONE transaction the member rows are locked in (room, user) order and one UPDATE
// moves last_read_message_id forwards only (GREATEST) and recomputes unread_count = the
// room's messages after it that others sent (store::read_mark_writer; the SQL is in
// store/). A receipt of a non-member or an unknown room changes no row and is poison
// (dead-lettered). After the Kafka commit the new values go to the unread cache
// (unread_cache.hpp), and each (room, user) whose lastReadMessageId moved is published as a
// read event (proto::read_event) on chat:room:{room}: one script call per batch (chunks of
// read_events_per_call), best effort like all live delivery — Redis down loses them (logged),
// GET /api/rooms/{id}/reads still has the marks. A redelivered batch moves no mark again, so
// it publishes nothing twice.
#include "config/config.hpp"
#include "pipeline/batch_handler.hpp"
#include "pipeline/records.hpp"
#include "pipeline/redis_script.hpp"
#include "pipeline/unread_cache.hpp"
#include "redis/redis_client.hpp"
#include "store/message_writer.hpp"

#include <chat/proto/events.hpp>

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace chat::chatd::pipeline {

// What applying the merged receipts of a batch came to.
struct receipts_report {
  std::optional<std::string> infra_error;  // set: nothing of the batch counts as done
  std::vector<record_failure> failures;    // by batch index: refused values, non-members
  std::vector<unread_entry> unread;        // in the order of `updates`
  std::vector<proto::read_event> reads;    // the marks that moved, in the order of `updates`
};

// The store half of a batch: `updates` in one write; when the database refuses it because
// of some receipt's values, one write per update, so only those become poison. An update
// that changed no row (not a member, no such room) is poison too. Precondition: `updates`
// is not empty.
receipts_report apply_receipts(store::read_mark_writer& writer, const std::vector<receipt_update>& updates);

struct read_events_stats {
  std::atomic<std::uint64_t> published{0};  // read events PUBLISHed
  std::atomic<std::uint64_t> lost{0};       // not published: Redis unreachable or the script failed
};

class receipts_handler final : public batch_handler {
 public:
  // Read events per script call: bounds how long one call keeps Redis busy.
  static constexpr std::size_t read_events_per_call = 256;

  // Writes through the PostgreSQL writer (store::make_pg_read_mark_writer).
  explicit receipts_handler(const config& cfg);
  receipts_handler(const config& cfg, std::unique_ptr<store::read_mark_writer> writer);

  batch_outcome handle(std::span<const kafka::record> batch) override;
  void after_commit() override;
  void on_idle() override;

  const read_events_stats& read_stats() const noexcept { return read_stats_; }

 private:
  void publish_read_events();

  std::unique_ptr<store::read_mark_writer> writer_;
  redis::client redis_;
  unread_cache cache_;
  std::vector<unread_entry> cache_updates_;
  redis_script publish_reads_;
  std::vector<proto::read_event> read_events_;
  read_events_stats read_stats_;
};

}  // namespace chat::chatd::pipeline
