#include "pipeline/kafka_message_log.hpp"

#include <chat/common/time.hpp>
#include <chat/proto/names.hpp>

#include <array>
#include <charconv>

namespace chat::chatd {

kafka_message_log::kafka_message_log(const config& cfg) : node_id_(cfg.node_id) {
  auto settings = kafka_settings(cfg);
  settings.insert(settings.begin(), {"message.timeout.ms", std::to_string(cfg.send_timeout.count())});
  settings.emplace_back("client.id", "chatd-" + cfg.node_id);
  producer_ = std::make_unique<kafka::producer>(settings, [this](const kafka::delivery_report& r) { on_delivery(r); });
}

kafka_message_log::~kafka_message_log() { stop(std::chrono::milliseconds(0)); }

void kafka_message_log::publish_message(const proto::chat_message& message, publish_callback cb) {
  std::string value;
  value.reserve(192 + message.content.size());
  proto::chat_message without_id = message;
  without_id.id = -1;  // the id comes from the record's position
  proto::append_json(without_id, value);
  produce(proto::topics::messages, message.room_id, value, message.message_key, message.created_at_ms, std::move(cb));
}

void kafka_message_log::publish_read_receipt(const proto::read_receipt& receipt, publish_callback cb) {
  std::string value;
  proto::append_json(receipt, value);
  produce(proto::topics::read_receipts, receipt.room_id, value, {}, receipt.at_ms, std::move(cb));
}

void kafka_message_log::produce(std::string_view topic, std::int64_t room_id, std::string_view value,
                                std::string_view message_key, std::int64_t sent_at_ms, publish_callback cb) {
  std::array<char, 24> key_buf{};
  const auto key_end = std::to_chars(key_buf.data(), key_buf.data() + key_buf.size(), room_id).ptr;
  const std::string_view key(key_buf.data(), static_cast<std::size_t>(key_end - key_buf.data()));
  std::array<char, 24> sent_buf{};
  const auto sent_end = std::to_chars(sent_buf.data(), sent_buf.data() + sent_buf.size(), sent_at_ms).ptr;

  std::array<kafka::header_view, 3> headers{};
  std::size_t n = 0;
  if (!message_key.empty()) headers[n++] = {proto::kafka_headers::message_key, message_key};
  headers[n++] = {proto::kafka_headers::sent_at,
                  std::string_view(sent_buf.data(), static_cast<std::size_t>(sent_end - sent_buf.data()))};
  headers[n++] = {proto::kafka_headers::origin_node, node_id_};

  const std::uint64_t cookie = next_cookie_.fetch_add(1, std::memory_order_relaxed);
  {
    std::lock_guard lock(mutex_);
    pending_.emplace(cookie, std::move(cb));
  }
  const std::error_code ec = producer_->produce(topic, -1, key, value, std::span(headers.data(), n), cookie);
  if (!ec) return;
  publish_callback failed;
  {
    std::lock_guard lock(mutex_);
    auto it = pending_.find(cookie);
    failed = std::move(it->second);
    pending_.erase(it);
  }
  publish_result result;
  result.overloaded = ec == kafka::errc::queue_full;
  result.error = ec.message();
  failed(result);
}

void kafka_message_log::on_delivery(const kafka::delivery_report& report) {
  publish_callback cb;
  {
    std::lock_guard lock(mutex_);
    auto it = pending_.find(report.cookie);
    if (it == pending_.end()) return;
    cb = std::move(it->second);
    pending_.erase(it);
  }
  publish_result result;
  result.ok = report.ok;
  result.error = report.error;
  result.partition = report.partition;
  result.offset = report.offset;
  cb(result);
}

std::size_t kafka_message_log::flush(std::chrono::milliseconds timeout) { return producer_->flush(timeout); }

void kafka_message_log::stop(std::chrono::milliseconds flush_timeout) {
  if (producer_) producer_->stop(flush_timeout);
}

std::size_t kafka_message_log::in_flight() const { return producer_->in_flight(); }

}  // namespace chat::chatd
