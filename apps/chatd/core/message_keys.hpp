#pragma once
// Retries with a messageKey answer the id the key got first (docs/events.md "Retries").
//
// A client that lost the RECEIPT (or the 201) of a message sends it again with the same
// messageKey, often through another node. The consumers keep the first record of a key (the
// persistence consumer stores it, the broadcast consumer delivers it); a retry that reached
// Kafka again is a second record with its own position, which nobody will ever show. So the
// publishers do not answer with the retry's position: once Kafka acknowledged a message with a
// client-supplied key they claim the key, and answer with the entry of whoever claimed it
// first: this node's memory first, then the cluster's (gateway_adapters/redis_message_keys).
// A key found in this node's memory before publishing is answered at once, without a record.
//
// The residual case: a first attempt whose acknowledgement never reached any node (the producer
// timed out, "it may still be stored") but that Kafka kept. Its retry claims the key with its
// own id; the store keeps the first. docs/events.md says so.
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

namespace chat::chatd {

// What a messageKey named when Kafka acknowledged it.
struct key_entry {
  std::int64_t id = 0;
  std::int64_t room_id = 0;
  std::int64_t sender_id = 0;

  friend bool operator==(const key_entry&, const key_entry&) = default;
};

class message_keys {
 public:
  virtual ~message_keys() = default;
  // This node's memory only. Any thread; never blocks.
  virtual std::optional<key_entry> find(const std::string& key) const = 0;
  // `mine` was just acknowledged by Kafka under `key`: calls `done` exactly once, on any thread
  // (possibly this one, before returning), with the entry that claimed the key first — `mine`
  // when it is the first, or when the cluster cannot be asked. Never blocks.
  virtual void claim(const std::string& key, key_entry mine, std::function<void(key_entry first)> done) = 0;
};

// This node's memory of claimed keys: bounded, the oldest of `capacity` forgotten first.
// Thread-safe; one short lock per call.
class recent_keys {
 public:
  explicit recent_keys(std::size_t capacity = 16384) : capacity_(capacity) {}

  // Remembers `e` unless the key is remembered already; returns what the key names now.
  key_entry remember(const std::string& key, key_entry e) {
    if (capacity_ == 0) return e;
    std::lock_guard lock(mutex_);
    const auto [it, added] = entries_.try_emplace(key, e);
    if (!added) return it->second;
    note_added(key);
    return e;
  }

  // Remembers `e`, replacing what the key named (the cluster's answer wins over this node's).
  void assign(const std::string& key, key_entry e) {
    if (capacity_ == 0) return;
    std::lock_guard lock(mutex_);
    if (entries_.insert_or_assign(key, e).second) note_added(key);
  }

  std::optional<key_entry> find(const std::string& key) const {
    std::lock_guard lock(mutex_);
    const auto it = entries_.find(key);
    if (it == entries_.end()) return std::nullopt;
    return it->second;
  }

  std::size_t size() const {
    std::lock_guard lock(mutex_);
    return entries_.size();
  }

 private:
  // A key new to entries_ (mutex_ held): the oldest go once there are more than capacity_.
  void note_added(const std::string& key) {
    order_.push_back(key);
    while (order_.size() > capacity_) {
      entries_.erase(order_.front());
      order_.pop_front();
    }
  }

  const std::size_t capacity_;
  mutable std::mutex mutex_;
  std::unordered_map<std::string, key_entry> entries_;
  std::deque<std::string> order_;  // oldest first
};

// message_keys of a single node (no cluster to ask): the first claim this node saw wins.
class local_message_keys final : public message_keys {
 public:
  explicit local_message_keys(std::size_t capacity = 16384) : keys_(capacity) {}
  std::optional<key_entry> find(const std::string& key) const override { return keys_.find(key); }
  void claim(const std::string& key, key_entry mine, std::function<void(key_entry first)> done) override {
    done(keys_.remember(key, mine));
  }

 private:
  recent_keys keys_;
};

}  // namespace chat::chatd
