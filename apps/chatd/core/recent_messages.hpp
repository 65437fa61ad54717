#pragma once
// What this node knows about the newest messages before PostgreSQL does (SPEC §13).
//
// A message is in the store only once the persistence consumer wrote it, which can be a little
// after its sender got the RECEIPT and its room saw it live. An edit, delete, reaction, pin or
// reply naming such a message must still be checked (check_room_event) without waiting for
// the store: the node remembers every message it saw acknowledged by Kafka (its own publishes)
// or live on a room channel (the fan-out), with the state later events gave it (deleted,
// pinned). store::load_target_context asks this when the store does not have the target yet.
//
// The store stays the authority: this is consulted only for targets the store lacks, and the
// persistence consumer re-checks every event (pipeline/event_fold). Bounded: the oldest of
// `capacity` messages is forgotten first (65,536 ≈ 30 s at 2,000 msg/s). Thread-safe; one
// short lock per call, no I/O.
#include "core/event_rules.hpp"
#include "core/message_log.hpp"

#include <chat/proto/ids.hpp>
#include <chat/proto/message.hpp>

#include <cstddef>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <unordered_map>

namespace chat::chatd {

class recent_messages {
 public:
  static constexpr std::size_t default_capacity = 65536;

  explicit recent_messages(std::size_t capacity = default_capacity) : capacity_(capacity) {
    entries_.reserve(capacity_ < 4096 ? capacity_ : 4096);
  }
  recent_messages(const recent_messages&) = delete;
  recent_messages& operator=(const recent_messages&) = delete;

  // What record() keeps of a room event: its scalars, not its text.
  struct fact {
    proto::event_kind event = proto::event_kind::message;
    std::int64_t id = -1;  // from its Kafka position; negative: unknown (ignored)
    std::int64_t room_id = 0;
    std::int64_t sender_id = 0;
    proto::message_type type = proto::message_type::text;
    std::int64_t created_at_ms = 0;
    std::int64_t thread_root_id = 0;
    std::int64_t target_id = 0;
  };

  static fact fact_of(const proto::chat_message& event) noexcept {
    // An administration event kept as a SYSTEM history item (proto::is_history_notice) is a SYSTEM
    // message as a target: it takes no edit, delete or reaction.
    if (proto::is_history_notice(event.event)) {
      return fact{proto::event_kind::message,
                  event.id,
                  event.room_id,
                  event.sender_id,
                  proto::message_type::system,
                  event.created_at_ms,
                  0,
                  0};
    }
    return fact{event.event,          event.id,       event.room_id, event.sender_id, event.type, event.created_at_ms,
                event.thread_root_id, event.target_id};
  }

  // A message is remembered; message.deleted, message.pinned and message.unpinned update a
  // remembered target. Seeing the same message twice (ack and live) keeps the state it has.
  void record(const proto::chat_message& event) { record(fact_of(event)); }

  void record(const fact& event) {
    if (event.id < 0 || capacity_ == 0) return;
    std::lock_guard lock(mutex_);
    switch (event.event) {
      case proto::event_kind::message: {
        entry e;
        e.room_id = event.room_id;
        e.target.id = event.id;
        e.target.sender_id = event.sender_id;
        e.target.type = event.type;
        e.target.created_at_ms = event.created_at_ms;
        e.target.thread_root_id = event.thread_root_id;
        if (!entries_.emplace(event.id, e).second) return;
        order_.push_back(event.id);
        while (order_.size() > capacity_) {
          entries_.erase(order_.front());
          order_.pop_front();
        }
        return;
      }
      case proto::event_kind::deleted:
        if (auto* t = target_of(event)) t->deleted = true;
        return;
      case proto::event_kind::pinned:
        if (auto* t = target_of(event)) t->pinned = true;
        return;
      case proto::event_kind::unpinned:
        if (auto* t = target_of(event)) t->pinned = false;
        return;
      default: return;
    }
  }

  // The message `id` of `room_id`, when this node remembers it; another room's is absent.
  std::optional<target_message> find(std::int64_t room_id, std::int64_t id) const {
    std::lock_guard lock(mutex_);
    const auto it = entries_.find(id);
    if (it == entries_.end() || it->second.room_id != room_id) return std::nullopt;
    return it->second.target;
  }

  std::size_t size() const {
    std::lock_guard lock(mutex_);
    return entries_.size();
  }

 private:
  struct entry {
    std::int64_t room_id = 0;
    target_message target;
  };

  target_message* target_of(const fact& event) {
    const auto it = entries_.find(event.target_id);
    if (it == entries_.end() || it->second.room_id != event.room_id) return nullptr;
    return &it->second.target;
  }

  const std::size_t capacity_;
  mutable std::mutex mutex_;
  std::unordered_map<std::int64_t, entry> entries_;
  std::deque<std::int64_t> order_;  // oldest first
};

// A message_log that tells `recent` every room event the log acknowledged (with the id its
// position gives), then the caller. Read receipts pass through untouched.
class recording_message_log final : public message_log {
 public:
  recording_message_log(message_log& inner, recent_messages& recent) : inner_(inner), recent_(recent) {}

  void publish_message(const proto::chat_message& message, publish_callback cb) override {
    inner_.publish_message(message, [recent = &recent_, fact = recent_messages::fact_of(message),
                                     cb = std::move(cb)](const publish_result& r) mutable {
      if (r.ok && r.partition >= 0 && r.offset >= 0) {
        fact.id = proto::make_message_id(r.partition, r.offset);
        recent->record(fact);
      }
      cb(r);
    });
  }

  void publish_read_receipt(const proto::read_receipt& receipt, publish_callback cb) override {
    inner_.publish_read_receipt(receipt, std::move(cb));
  }

 private:
  message_log& inner_;
  recent_messages& recent_;
};

}  // namespace chat::chatd
