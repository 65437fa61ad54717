#include "gateway/subscription_table.hpp"

#include <algorithm>

namespace chat::gateway {

std::optional<channel_key> channel_of(const proto::destination& dest) noexcept {
  switch (dest.kind) {
    case proto::destination_kind::room: return channel_key{channel_kind::room, dest.room_id};
    case proto::destination_kind::room_typing: return channel_key{channel_kind::typing, dest.room_id};
    case proto::destination_kind::presence:
    case proto::destination_kind::user_errors:
    case proto::destination_kind::app_send:
    case proto::destination_kind::app_read:
    case proto::destination_kind::app_typing:
    case proto::destination_kind::app_edit:
    case proto::destination_kind::app_delete:
    case proto::destination_kind::app_react:
    case proto::destination_kind::user_notifications:
    case proto::destination_kind::user_rooms: return std::nullopt;
  }
  return std::nullopt;
}

const subscription* subscription_table::find(const std::string& id) const {
  const auto it = by_id_.find(id);
  return it == by_id_.end() ? nullptr : &it->second;
}

std::vector<std::string>* subscription_table::group_of(const subscription& sub) {
  if (const auto key = channel_of(sub.dest)) return &by_channel_[*key];
  switch (sub.dest.kind) {
    case proto::destination_kind::presence: return &presence_;
    case proto::destination_kind::user_errors: return &errors_;
    case proto::destination_kind::user_notifications: return &notifications_;
    case proto::destination_kind::user_rooms: return &room_list_;
    case proto::destination_kind::room:
    case proto::destination_kind::room_typing:
    case proto::destination_kind::app_send:
    case proto::destination_kind::app_read:
    case proto::destination_kind::app_typing:
    case proto::destination_kind::app_edit:
    case proto::destination_kind::app_delete:
    case proto::destination_kind::app_react: break;
  }
  return nullptr;  // nobody can subscribe to an /app destination
}

std::size_t subscription_table::add(std::string id, const subscription& sub) {
  by_id_.emplace(id, sub);
  auto* group = group_of(sub);
  if (group == nullptr) return 0;
  group->push_back(std::move(id));
  return group->size();
}

std::optional<subscription_table::removed> subscription_table::remove(const std::string& id) {
  const auto it = by_id_.find(id);
  if (it == by_id_.end()) return std::nullopt;
  removed out{it->second, false};
  by_id_.erase(it);
  if (const auto key = channel_of(out.sub.dest)) {
    const auto ch = by_channel_.find(*key);
    if (ch == by_channel_.end()) return out;
    std::erase(ch->second, id);
    if (ch->second.empty()) {
      by_channel_.erase(ch);
      out.group_emptied = true;
    }
    return out;
  }
  if (auto* group = group_of(out.sub)) {
    std::erase(*group, id);
    out.group_emptied = group->empty();
  }
  return out;
}

std::vector<std::string> subscription_table::ids_of_room(std::int64_t room_id) const {
  std::vector<std::string> out;
  for (const auto& [id, sub] : by_id_) {
    if (const auto key = channel_of(sub.dest); key && key->room_id == room_id) out.push_back(id);
  }
  return out;
}

const std::vector<std::string>* subscription_table::of_channel(const channel_key& key) const {
  const auto it = by_channel_.find(key);
  return it == by_channel_.end() ? nullptr : &it->second;
}

std::vector<channel_key> subscription_table::channels() const {
  std::vector<channel_key> out;
  out.reserve(by_channel_.size());
  for (const auto& [key, ids] : by_channel_) out.push_back(key);
  return out;
}

void subscription_table::clear() noexcept {
  by_id_.clear();
  by_channel_.clear();
  presence_.clear();
  errors_.clear();
  notifications_.clear();
  room_list_.clear();
}

}  // namespace chat::gateway
