#pragma once
// Every name the system shares with Kafka, Redis and STOMP clients, defined once (docs/stomp.md, docs/topics.md,
// docs/topics.md).
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace chat::proto {

// ---- Kafka topics (docs/topics.md) ----------------------------------------------------------------------
namespace topics {
inline constexpr std::string_view messages = "chat.messages";
inline constexpr std::string_view read_receipts = "chat.read-receipts";
inline constexpr std::string_view messages_dlt = "chat.messages.dlt";
inline constexpr std::string_view read_receipts_dlt = "chat.read-receipts.dlt";
inline constexpr std::string_view dlt_suffix = ".dlt";
// dlt-replay's progress: one compacted record per dead letter it replayed or parked.
inline constexpr std::string_view dlt_replay_ledger = "dlt-replay.ledger";
}  // namespace topics

// "<topic>.dlt": where records of `topic` go when no retry can process them.
std::string dlt_topic_for(std::string_view topic);

// The original topic of a dead-letter topic ("chat.messages.dlt" -> "chat.messages"), or
// nullopt when `dlt_topic` does not end in ".dlt". Points into `dlt_topic`.
std::optional<std::string_view> topic_of_dlt(std::string_view dlt_topic) noexcept;

// ---- Kafka consumer groups ------------------------------------------------------------------
namespace consumer_groups {
inline constexpr std::string_view persistence = "chat-persistence";
inline constexpr std::string_view broadcast = "chat-broadcast";
inline constexpr std::string_view read_receipts = "chat-read-receipts";
inline constexpr std::string_view preview = "chat-preview";  // link previews (SPEC §16)
inline constexpr std::string_view dlt_replay = "dlt-replay";
}  // namespace consumer_groups

// ---- Kafka record headers -------------------------------------------------------------------
// Values are UTF-8 text; numbers (partition, offset, timestamps in Unix ms, counts) decimal.
namespace kafka_headers {
// On every chat.messages / chat.read-receipts record.
inline constexpr std::string_view message_key = "message-key";
inline constexpr std::string_view sent_at = "sent-at";  // Unix ms when the gateway produced it
inline constexpr std::string_view origin_node = "origin-node";

// Added when a record is written to <topic>.dlt (the original headers are kept as well).
inline constexpr std::string_view dlt_prefix = "dlt-";
inline constexpr std::string_view dlt_original_topic = "dlt-original-topic";
inline constexpr std::string_view dlt_original_partition = "dlt-original-partition";
inline constexpr std::string_view dlt_original_offset = "dlt-original-offset";
inline constexpr std::string_view dlt_original_timestamp = "dlt-original-timestamp";
inline constexpr std::string_view dlt_consumer_group = "dlt-consumer-group";
inline constexpr std::string_view dlt_exception_class = "dlt-exception-class";
inline constexpr std::string_view dlt_exception_message = "dlt-exception-message";
inline constexpr std::string_view dlt_attempts = "dlt-attempts";
inline constexpr std::string_view dlt_failed_at = "dlt-failed-at";

// Added by dlt-replay to a record it re-sends to the original topic. dlt-replayed-from holds
// "<dlt topic>:<partition>:<offset>" of the dead letter that was replayed.
inline constexpr std::string_view dlt_replayed_from = "dlt-replayed-from";
inline constexpr std::string_view dlt_replay_count = "dlt-replay-count";
inline constexpr std::string_view dlt_replayed_at = "dlt-replayed-at";
// Added by dlt-replay to a dead letter it parks (--park-topic) instead of replaying: the
// record keeps its headers and gains "<dlt topic>:<partition>:<offset>" and the time (Unix ms).
inline constexpr std::string_view dlt_parked_from = "dlt-parked-from";
inline constexpr std::string_view dlt_parked_at = "dlt-parked-at";
}  // namespace kafka_headers

// Dead-letter headers written by other frameworks, which dlt-replay also reads (docs/dlt-replay.md).
// Spring Kafka (DeadLetterPublishingRecoverer): partition is a 4-byte and offset and timestamp
// 8-byte big-endian binary value; the rest are UTF-8 text.
namespace spring_dlt_headers {
inline constexpr std::string_view prefix = "kafka_dlt-";
inline constexpr std::string_view original_topic = "kafka_dlt-original-topic";
inline constexpr std::string_view original_partition = "kafka_dlt-original-partition";
inline constexpr std::string_view original_offset = "kafka_dlt-original-offset";
inline constexpr std::string_view original_timestamp = "kafka_dlt-original-timestamp";
inline constexpr std::string_view original_consumer_group = "kafka_dlt-original-consumer-group";
inline constexpr std::string_view exception_fqcn = "kafka_dlt-exception-fqcn";
inline constexpr std::string_view exception_message = "kafka_dlt-exception-message";
inline constexpr std::string_view exception_stacktrace = "kafka_dlt-exception-stacktrace";
// Instead of exception-*, when the key (not the value) could not be deserialized.
inline constexpr std::string_view key_exception_fqcn = "kafka_dlt-key-exception-fqcn";
inline constexpr std::string_view key_exception_message = "kafka_dlt-key-exception-message";
inline constexpr std::string_view key_exception_stacktrace = "kafka_dlt-key-exception-stacktrace";
}  // namespace spring_dlt_headers

// Kafka Connect (errors.deadletterqueue.context.headers.enable=true): all UTF-8 text.
namespace connect_dlt_headers {
inline constexpr std::string_view prefix = "__connect.errors.";
inline constexpr std::string_view original_topic = "__connect.errors.topic";
inline constexpr std::string_view original_partition = "__connect.errors.partition";
inline constexpr std::string_view original_offset = "__connect.errors.offset";
inline constexpr std::string_view connector_name = "__connect.errors.connector.name";
inline constexpr std::string_view task_id = "__connect.errors.task.id";
inline constexpr std::string_view stage = "__connect.errors.stage";
inline constexpr std::string_view class_name = "__connect.errors.class.name";
inline constexpr std::string_view exception_class = "__connect.errors.exception.class.name";
inline constexpr std::string_view exception_message = "__connect.errors.exception.message";
inline constexpr std::string_view exception_stacktrace = "__connect.errors.exception.stacktrace";
}  // namespace connect_dlt_headers

// ---- Redis (docs/topics.md) -----------------------------------------------------------------------------
namespace redis_names {
inline constexpr std::string_view room_channel_prefix = "chat:room:";
inline constexpr std::string_view room_channel_pattern = "chat:room:*";  // for PSUBSCRIBE
inline constexpr std::string_view presence_channel = "chat:presence";
inline constexpr std::string_view presence_key_prefix = "user:presence:";
inline constexpr std::string_view unread_key_prefix = "unread:";
// + "{roomId}": typing notices relayed between chatd nodes (payload: typing_event JSON).
inline constexpr std::string_view typing_channel_prefix = "chat:typing:";
// + "{userId}": events for one user's sessions on every node (payload: a user event JSON,
// events.hpp; delivered on /user/queue/notifications).
inline constexpr std::string_view user_channel_prefix = "chat:user:";
// Revoked access tokens (docs/topics.md "Token revocations"): a sorted set whose members are
// the revocations' text form (apps/chatd/tokens/revocations.hpp) scored by the Unix second
// from which they name no valid token, and the channel on which each new one is published.
inline constexpr std::string_view revoked_tokens_key = "chat:revoked-tokens";
inline constexpr std::string_view token_revocations_channel = "chat:token-revocations";
// Profile changes for every node (payload: people.hpp profile_updated_event): live sessions
// of the user stamp the new nickname on what they send next.
inline constexpr std::string_view profile_channel = "chat:profile";
// + "{scope}:{userId}": the node that claimed writing lastSeenAt after a presence key expired
// (every node sees the expiry; one writes). Short-lived.
inline constexpr std::string_view last_seen_claim_prefix = "chat:presence:seen:";
// Blocks made and lifted (payload: proto::block_change JSON, blocks.hpp); every node listens.
inline constexpr std::string_view blocks_channel = "chat:blocks";
// Memberships that ended (payload: proto::membership_revoked JSON, events.hpp); every node listens.
inline constexpr std::string_view membership_channel = "chat:membership";
// Lifetime of user:presence:{id}; refreshed while a session lives (docs/stomp.md).
inline constexpr int presence_ttl_s = 60;
}  // namespace redis_names

std::string room_channel(std::int64_t room_id);  // "chat:room:{id}"
std::optional<std::int64_t> parse_room_channel(std::string_view channel) noexcept;
std::string presence_key(std::int64_t user_id);                      // "user:presence:{id}"
std::string unread_key(std::int64_t room_id, std::int64_t user_id);  // "unread:{room}:{user}"
std::string typing_channel(std::int64_t room_id);                    // "chat:typing:{id}"
std::optional<std::int64_t> parse_typing_channel(std::string_view channel) noexcept;
std::string user_channel(std::int64_t user_id);  // "chat:user:{id}"
std::optional<std::int64_t> parse_user_channel(std::string_view channel) noexcept;

// ---- STOMP destinations (docs/stomp.md) ----------------------------------------------------------------
namespace destinations {
inline constexpr std::string_view room_prefix = "/topic/room.";  // + "{roomId}"
inline constexpr std::string_view typing_suffix = ".typing";     // "/topic/room.{id}.typing"
inline constexpr std::string_view presence = "/topic/presence";
inline constexpr std::string_view user_errors = "/user/queue/errors";
inline constexpr std::string_view user_notifications = "/user/queue/notifications";
inline constexpr std::string_view user_rooms = "/user/queue/rooms";
inline constexpr std::string_view app_send = "/app/chat.send";
inline constexpr std::string_view app_read = "/app/chat.read";
inline constexpr std::string_view app_typing = "/app/chat.typing";
inline constexpr std::string_view app_edit = "/app/chat.edit";
inline constexpr std::string_view app_delete = "/app/chat.delete";
inline constexpr std::string_view app_react = "/app/chat.react";
}  // namespace destinations

enum class destination_kind {
  room,                // /topic/room.{id}          SUBSCRIBE, and SEND with the body as content
  room_typing,         // /topic/room.{id}.typing   SUBSCRIBE
  presence,            // /topic/presence           SUBSCRIBE
  user_errors,         // /user/queue/errors        SUBSCRIBE
  app_send,            // /app/chat.send            SEND
  app_read,            // /app/chat.read            SEND
  app_typing,          // /app/chat.typing          SEND
  app_edit,            // /app/chat.edit            SEND
  app_delete,          // /app/chat.delete          SEND
  app_react,           // /app/chat.react           SEND
  user_notifications,  // /user/queue/notifications  SUBSCRIBE
  user_rooms,          // /user/queue/rooms          SUBSCRIBE (the live room list)
};

struct destination {
  destination_kind kind = destination_kind::room;
  std::int64_t room_id = 0;  // room and room_typing only; 0 otherwise

  friend bool operator==(const destination&, const destination&) = default;
};

// Exact match of one of the destinations above; room ids as in parse_positive_id().
// Anything else (other prefixes, trailing characters, "/topic/room.0", "/topic/room.01",
// overflowing ids) yields nullopt.
std::optional<destination> parse_destination(std::string_view text) noexcept;

std::string room_destination(std::int64_t room_id);         // "/topic/room.{id}"
std::string room_typing_destination(std::int64_t room_id);  // "/topic/room.{id}.typing"
std::string format_destination(const destination& d);       // inverse of parse_destination

}  // namespace chat::proto
