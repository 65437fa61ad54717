#pragma once
// Consumer group chat-preview, the preview role (SPEC §16, docs/pipeline.md, docs/operations.md
// "Link previews"): chat.messages -> page fetches -> message.preview room events back into
// chat.messages.
//
// Per batch, on the consumer's thread, only cheap work: decode each record that has "http" in it
// at all (most have not: they cost a byte scan), and for a `message` event (not SYSTEM, younger than max_preview_age)
// whose text has an http(s) URL, hand the first URL to the previewer (preview/previewer.hpp), which fetches off this
// thread and never blocks it (a full queue drops the preview, counted). The offsets are committed at once: previews are
// best effort -- a node that dies with fetches in hand loses those previews, nothing else. A
// record that does not decode is skipped here (chat-persistence dead-letters it).
//
// Each preview made is published through the message_log as
//   {"event":"message.preview","messageKey":<v8 UUID of "message.preview/<targetId>">,
//    "roomId":…,"senderId":<the message's sender>,"senderNickname":…,"targetId":…,"preview":{…}}
// keyed by room, so it follows its message in the room's order. The derived messageKey makes it
// idempotent: a redelivered batch, or two nodes previewing the same message after a rebalance,
// store it once (room_events) and deliver it live once (the broadcast's de-duplication).
#include "config/config.hpp"
#include "core/message_log.hpp"
#include "pipeline/batch_handler.hpp"
#include "preview/previewer.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

namespace chat::chatd::pipeline {

// A message older than this when the preview consumer reads it gets no preview: the consumer
// catching up (a new group reading chat.messages from the start, a long outage) does not fetch
// the pages of old messages.
inline constexpr std::chrono::minutes max_preview_age{10};

// The messageKey of the preview of message `target_id`.
std::string preview_message_key(std::int64_t target_id);

// The message.preview event of `target` (created now).
proto::chat_message preview_event(const preview::preview_target& target, const proto::link_preview& preview,
                                  std::int64_t now_ms);

class preview_handler final : public batch_handler {
 public:
  using clock_ms = std::function<std::int64_t()>;  // Unix ms (tests pass their own)

  // Starts the previewer's workers. `log` outlives the handler.
  preview_handler(const config& cfg, message_log& log);
  // For tests: a previewer made elsewhere (its sink is the caller's) and a clock.
  preview_handler(std::size_t max_content_chars, std::unique_ptr<preview::previewer> previewer, clock_ms now);
  ~preview_handler() override;

  batch_outcome handle(std::span<const kafka::record> batch) override;

  // Stops the fetch workers (each finishes the fetch in hand, at most --preview-timeout) and
  // drops what waits. Called once the consumer's loop has stopped; idempotent.
  void stop() { previewer_->stop(); }

  preview::preview_stats& stats() noexcept { return previewer_->stats(); }

 private:
  std::size_t max_content_chars_;
  clock_ms now_;
  std::unique_ptr<preview::previewer> previewer_;
};

}  // namespace chat::chatd::pipeline
