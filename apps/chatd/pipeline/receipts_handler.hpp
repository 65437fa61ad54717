#pragma once
// Consumer group chat-read-receipts (SPEC §3 POST /rooms/{id}/read, §5):
// chat.read-receipts -> chat_room_members, then the Redis unread cache.
//
// Per batch, receipts of the same (room, user) are merged (the largest lastReadMessageId),
// then in ONE transaction the member rows are locked in (room, user) order and one UPDATE
// moves last_read_message_id forwards only (GREATEST) and recomputes unread_count = the
// room's messages after it that others sent. A receipt of a non-member or an unknown room
// changes no row and is poison (logged and skipped). After the Kafka commit the new
// values go to the unread cache (unread_cache.hpp).
#include "config/config.hpp"
#include "pipeline/batch_handler.hpp"
#include "pipeline/pg_support.hpp"
#include "pipeline/unread_cache.hpp"
#include "redis/redis_client.hpp"

#include <vector>

namespace chat::chatd::pipeline {

class receipts_handler final : public batch_handler {
 public:
  explicit receipts_handler(const config& cfg);

  batch_outcome handle(std::span<const kafka::record> batch) override;
  void after_commit() override;
  void on_idle() override;

 private:
  pg_session pg_;
  redis::client redis_;
  unread_cache cache_;
  std::vector<unread_entry> cache_updates_;
};

}  // namespace chat::chatd::pipeline
