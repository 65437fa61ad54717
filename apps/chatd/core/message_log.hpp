#pragma once
// Port: publishing into the log (Kafka). The gateway (SEND) and the REST API (read
// receipts, SYSTEM join/leave messages) publish through this; the adapter is
// pipeline/kafka_message_log. Nothing here knows about librdkafka.
#include <chat/proto/events.hpp>
#include <chat/proto/message.hpp>

#include <cstdint>
#include <functional>
#include <string>

namespace chat::chatd {

struct publish_result {
  bool ok = false;          // the broker acknowledged the record (acks=all)
  bool overloaded = false;  // refused locally because the producer queue is full
  std::string error;        // why not, for logs and ERROR frames
  std::int32_t partition = -1;
  std::int64_t offset = -1;
};

// Runs exactly once: on the producer's delivery thread, or on the caller's thread when the
// producer refuses the record at once (queue full). Keep it short and post the result to
// the strand/executor that owns the caller's state.
using publish_callback = std::function<void(const publish_result&)>;

class message_log {
 public:
  virtual ~message_log() = default;

  // chat.messages, key = roomId, value = docs/events.md JSON without id, headers message-key,
  // sent-at, origin-node. Thread-safe, never blocks.
  virtual void publish_message(const proto::chat_message& message, publish_callback cb) = 0;

  // chat.read-receipts, key = roomId. Thread-safe, never blocks.
  virtual void publish_read_receipt(const proto::read_receipt& receipt, publish_callback cb) = 0;
};

}  // namespace chat::chatd
