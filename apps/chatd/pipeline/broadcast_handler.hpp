#pragma once
// Consumer group chat-broadcast (docs/architecture.md, docs/topics.md): chat.messages -> Redis PUBLISH
// chat:room:{roomId}, the docs/events.md JSON with its id, which every chatd node's gateway delivers
// to its subscribers.
//
// Live delivery happens once per messageKey: one Lua script call per batch (split into
// calls of at most max_messages_per_call) does, for each message in order,
//     SET dedup:msg:{messageKey} 1 NX EX <dedup-ttl>  and, only if that set the key,
//     PUBLISH chat:room:{roomId} <json>
// Both happen inside one script, so no crash can separate them: a redelivered record (no
// commit before a crash, a retried batch, a rebalance) or a re-sent messageKey finds the
// key and publishes nothing. A script that fails (Redis out of memory, ...) has done a
// prefix of its messages; the batch is retried and continues in order.
//
// Redis unreachable -> infrastructure failure: the loop blocks and retries; the records
// stay in Kafka, live delivery resumes when Redis is back (history has them anyway).
#include "config/config.hpp"
#include "pipeline/batch_handler.hpp"
#include "pipeline/redis_script.hpp"
#include "redis/redis_client.hpp"

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>

namespace chat::chatd::pipeline {

// "dedup:msg:" + messageKey
inline constexpr std::string_view dedup_key_prefix = "dedup:msg:";

// Seconds since a record's createdAt at one stage (chat_stage_latency_seconds); may be empty.
using stage_observer = std::function<void(double seconds)>;

struct broadcast_stats {
  std::atomic<std::uint64_t> published{0};   // PUBLISHes done
  std::atomic<std::uint64_t> duplicates{0};  // messageKeys already delivered: not published again
};

class broadcast_handler final : public batch_handler {
 public:
  // Messages per script call: bounds how long one call keeps Redis busy.
  static constexpr std::size_t max_messages_per_call = 256;
  static constexpr std::size_t max_bytes_per_call = 1 << 20;

  explicit broadcast_handler(const config& cfg, stage_observer consumed = {}, stage_observer published = {});

  batch_outcome handle(std::span<const kafka::record> batch) override;

  const broadcast_stats& stats() const noexcept { return stats_; }

 private:
  std::size_t max_content_chars_;
  std::string dedup_ttl_s_;
  redis::client redis_;
  redis_script publish_once_;
  broadcast_stats stats_;
  stage_observer consumed_;
  stage_observer published_;
};

}  // namespace chat::chatd::pipeline
