#pragma once
// Adapter: message_log on a librdkafka idempotent producer (acks=all).
#include "config/config.hpp"
#include "core/message_log.hpp"

#include <chat/kafka/producer.hpp>

#include <atomic>
#include <memory>
#include <mutex>
#include <unordered_map>

namespace chat::chatd {

class kafka_message_log final : public message_log {
 public:
  // Throws std::runtime_error on invalid Kafka settings.
  explicit kafka_message_log(const config& cfg);
  ~kafka_message_log() override;

  void publish_message(const proto::chat_message& message, publish_callback cb) override;
  void publish_read_receipt(const proto::read_receipt& receipt, publish_callback cb) override;

  // Waits for every outstanding acknowledgement (graceful shutdown); returns how many
  // are still unknown after `timeout`.
  std::size_t flush(std::chrono::milliseconds timeout);
  void stop(std::chrono::milliseconds flush_timeout);
  std::size_t in_flight() const;

 private:
  void produce(std::string_view topic, std::int64_t room_id, std::string_view value, std::string_view message_key,
               std::int64_t sent_at_ms, publish_callback cb);
  void on_delivery(const kafka::delivery_report& report);

  std::string node_id_;
  std::mutex mutex_;
  std::unordered_map<std::uint64_t, publish_callback> pending_;
  std::atomic<std::uint64_t> next_cookie_{1};
  std::unique_ptr<kafka::producer> producer_;  // last: its thread calls on_delivery
};

}  // namespace chat::chatd
