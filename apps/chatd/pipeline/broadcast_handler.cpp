#include "pipeline/broadcast_handler.hpp"

#include "pipeline/records.hpp"

#include <chat/common/time.hpp>
#include <chat/proto/names.hpp>

#include <algorithm>

namespace chat::chatd::pipeline {

namespace {

// KEYS[i] = dedup:msg:{messageKey i}; ARGV[1] = TTL in seconds; ARGV[2i] = channel i,
// ARGV[2i+1] = payload i. Returns, per message, the receivers of its PUBLISH, or -1 when
// the messageKey was delivered before.
constexpr const char* publish_once_source = R"lua(
local out = {}
for i = 1, #KEYS do
  if redis.call('SET', KEYS[i], '1', 'NX', 'EX', ARGV[1]) then
    out[i] = redis.call('PUBLISH', ARGV[2 * i], ARGV[2 * i + 1])
  else
    out[i] = -1
  end
end
return out
)lua";

struct outgoing {
  std::string dedup_key;
  std::string channel;
  std::string payload;
  std::int64_t created_at_ms = 0;
};

}  // namespace

broadcast_handler::broadcast_handler(const config& cfg, stage_observer consumed, stage_observer published)
    : max_content_chars_(cfg.max_content_chars),
      dedup_ttl_s_(std::to_string(std::max<std::int64_t>(1, cfg.dedup_ttl.count()))),
      redis_(redis::parse_url(cfg.redis_url).value_or(redis::endpoint{}), cfg.dependency_timeout),
      publish_once_(publish_once_source),
      consumed_(std::move(consumed)),
      published_(std::move(published)) {}

namespace {

// Seconds from `created_at_ms` to `now_ms`; negative (clocks of two hosts) counts as 0.
double seconds_since(std::int64_t created_at_ms, std::int64_t now_ms) {
  return static_cast<double>(std::max<std::int64_t>(0, now_ms - created_at_ms)) / 1000.0;
}

}  // namespace

batch_outcome broadcast_handler::handle(std::span<const kafka::record> batch) {
  batch_outcome outcome;
  std::vector<outgoing> messages;
  messages.reserve(batch.size());
  const std::int64_t fetched_ms = consumed_ || published_ ? common::now_unix_ms() : 0;
  for (std::size_t i = 0; i < batch.size(); ++i) {
    message_record m;
    if (auto failure =
            decode_message(i, batch[i].partition(), batch[i].offset(), batch[i].value(), max_content_chars_, m)) {
      outcome.failures.push_back(std::move(*failure));
      continue;
    }
    outgoing o;
    o.dedup_key.reserve(dedup_key_prefix.size() + m.message.message_key.size());
    o.dedup_key.append(dedup_key_prefix).append(m.message.message_key);
    o.channel = proto::room_channel(m.message.room_id);
    append_json_with_id(m.message, o.payload);
    o.created_at_ms = m.message.created_at_ms;
    if (consumed_ && o.created_at_ms > 0) consumed_(seconds_since(o.created_at_ms, fetched_ms));
    messages.push_back(std::move(o));
  }

  std::vector<std::string_view> keys;
  std::vector<std::string_view> args;
  for (std::size_t first = 0; first < messages.size();) {
    keys.clear();
    args.clear();
    args.push_back(dedup_ttl_s_);
    std::size_t bytes = 0;
    std::size_t last = first;
    while (last < messages.size() && keys.size() < max_messages_per_call &&
           (keys.empty() || bytes + messages[last].payload.size() <= max_bytes_per_call)) {
      const auto& o = messages[last++];
      keys.push_back(o.dedup_key);
      args.push_back(o.channel);
      args.push_back(o.payload);
      bytes += o.payload.size();
    }
    std::string error;
    const auto reply = publish_once_.call(redis_, keys, args, error);
    if (!reply) return batch_outcome::infra("redis: " + error);
    if (reply->type == redis::reply::kind::error) return batch_outcome::infra("redis: " + reply->str);
    const std::int64_t published_ms = published_ ? common::now_unix_ms() : 0;
    for (std::size_t i = 0; i < reply->elements.size(); ++i) {
      if (reply->elements[i].integer < 0) {
        stats_.duplicates.fetch_add(1, std::memory_order_relaxed);
      } else {
        stats_.published.fetch_add(1, std::memory_order_relaxed);
        const auto created = first + i < last ? messages[first + i].created_at_ms : 0;
        if (published_ && created > 0) published_(seconds_since(created, published_ms));
      }
    }
    first = last;
  }
  return outcome;
}

}  // namespace chat::chatd::pipeline
