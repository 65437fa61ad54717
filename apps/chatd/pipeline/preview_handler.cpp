#include "pipeline/preview_handler.hpp"

#include "pipeline/records.hpp"

#include <chat/common/time.hpp>
#include <chat/common/uuid.hpp>
#include <chat/log/log.hpp>

namespace chat::chatd::pipeline {
namespace {

preview::previewer_settings previewer_settings_of(const config& cfg) {
  preview::previewer_settings s;
  s.policy.ports = cfg.preview_ports;
  s.policy.allow_hosts = cfg.preview_allow_hosts;
  s.policy.allow_hosts_only = cfg.preview_allow_hosts_only;
  s.limits.timeout = cfg.preview_timeout;
  s.workers = cfg.preview_workers;
  s.queue = static_cast<std::size_t>(cfg.preview_queue);
  s.cache_entries = static_cast<std::size_t>(cfg.preview_cache_entries);
  s.cache_ttl = cfg.preview_cache_ttl;
  return s;
}

}  // namespace

std::string preview_message_key(std::int64_t target_id) {
  return common::make_uuid_v8("message.preview/" + std::to_string(target_id));
}

proto::chat_message preview_event(const preview::preview_target& target, const proto::link_preview& preview,
                                  std::int64_t now_ms) {
  proto::chat_message e;
  e.event = proto::event_kind::preview;
  e.message_key = preview_message_key(target.message_id);
  e.room_id = target.room_id;
  e.sender_id = target.sender_id;
  e.sender_nickname = target.sender_nickname;
  e.target_id = target.message_id;
  e.preview = preview;
  e.created_at_ms = now_ms;
  return e;
}

preview_handler::preview_handler(const config& cfg, message_log& log)
    : max_content_chars_(cfg.max_content_chars), now_([] { return common::now_unix_ms(); }) {
  // The sink runs on a preview worker (or the consumer's thread for a cached preview); the
  // publish never blocks, and its acknowledgement comes on the producer's thread, maybe after
  // this handler is gone: it holds the counters by a shared pointer.
  previewer_ = std::make_unique<preview::previewer>(
      previewer_settings_of(cfg), [this, &log](const preview::preview_target& target, const proto::link_preview& p) {
        log.publish_message(
            preview_event(target, p, common::now_unix_ms()),
            [stats = previewer_->shared_stats(), target_id = target.message_id](const publish_result& r) {
              if (r.ok) {
                stats->published.fetch_add(1, std::memory_order_relaxed);
                return;
              }
              stats->fail(preview::failure::publish);
              log::warn("link preview not published", {{"target", target_id}, {"error", r.error}});
            });
      });
}

preview_handler::preview_handler(std::size_t max_content_chars, std::unique_ptr<preview::previewer> previewer,
                                 clock_ms now)
    : max_content_chars_(max_content_chars), now_(std::move(now)), previewer_(std::move(previewer)) {}

preview_handler::~preview_handler() {
  if (previewer_) previewer_->stop();
}

batch_outcome preview_handler::handle(std::span<const kafka::record> batch) {
  const std::int64_t oldest = now_() - std::chrono::duration_cast<std::chrono::milliseconds>(max_preview_age).count();
  for (std::size_t i = 0; i < batch.size(); ++i) {
    if (!preview::may_hold_url(batch[i].value())) continue;  // most messages: no second decode
    message_record m;
    if (decode_message(i, batch[i].partition(), batch[i].offset(), batch[i].value(), max_content_chars_, m)) continue;
    const auto& msg = m.message;
    if (msg.event != proto::event_kind::message || msg.type == proto::message_type::system) continue;
    if (msg.created_at_ms < oldest) continue;
    auto url = preview::first_url(msg.content);
    if (!url) continue;
    previewer_->submit(
        preview::preview_target{msg.id, msg.room_id, msg.sender_id, msg.sender_nickname, std::move(*url)});
  }
  return {};
}

}  // namespace chat::chatd::pipeline
