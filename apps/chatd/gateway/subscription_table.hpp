#pragma once
// A session's subscriptions (docs/stomp.md SUBSCRIBE/UNSUBSCRIBE), indexed the three ways the
// session needs them: by subscription id (UNSUBSCRIBE, the ack mode of a delivery), by
// fan-out channel (room and typing events), and the /topic/presence, /user/queue/errors and
// /user/queue/notifications lists. Bookkeeping only: joining the hub, arming receipts and
// loading contacts stay with the session, which learns from add() and remove() when a group
// got its first member or lost its last.
//
// Not thread-safe: owned by one session and used on its strand.
#include "gateway/fanout_hub.hpp"

#include <chat/proto/names.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace chat::gateway {

enum class ack_mode { auto_, client, client_individual };

struct subscription {
  proto::destination dest;
  ack_mode ack = ack_mode::auto_;
};

// The fan-out channel of a room or room-typing destination; nullopt for every other kind.
std::optional<channel_key> channel_of(const proto::destination& dest) noexcept;

class subscription_table {
 public:
  bool contains(const std::string& id) const { return by_id_.contains(id); }
  std::size_t size() const noexcept { return by_id_.size(); }
  // Null when there is no subscription `id`.
  const subscription* find(const std::string& id) const;

  // Adds subscription `id`, which must not exist yet. Returns how many subscriptions its
  // group holds now (its channel's, /topic/presence's, /user/queue/errors' or
  // /user/queue/notifications'): 1 = the first.
  std::size_t add(std::string id, const subscription& sub);

  struct removed {
    subscription sub;
    // It was the last of its channel / presence / errors / notifications group.
    bool group_emptied = false;
  };
  // Removes subscription `id`; nullopt when there is none.
  std::optional<removed> remove(const std::string& id);

  // Ids of the subscriptions to `room_id` or to its typing topic.
  std::vector<std::string> ids_of_room(std::int64_t room_id) const;

  // Who receives a channel's events, in subscription order; null when nobody here listens.
  const std::vector<std::string>* of_channel(const channel_key& key) const;
  const std::vector<std::string>& presence() const noexcept { return presence_; }
  const std::vector<std::string>& errors() const noexcept { return errors_; }
  const std::vector<std::string>& notifications() const noexcept { return notifications_; }
  const std::vector<std::string>& room_list() const noexcept { return room_list_; }
  // Channels with at least one subscription.
  std::vector<channel_key> channels() const;

  void clear() noexcept;

 private:
  std::vector<std::string>* group_of(const subscription& sub);

  std::unordered_map<std::string, subscription> by_id_;
  std::unordered_map<channel_key, std::vector<std::string>, channel_key_hash> by_channel_;
  std::vector<std::string> presence_;
  std::vector<std::string> errors_;
  std::vector<std::string> notifications_;
  std::vector<std::string> room_list_;  // /user/queue/rooms
};

}  // namespace chat::gateway
