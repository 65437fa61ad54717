#include "gateway/fanout_hub.hpp"

#include <chat/common/time.hpp>
#include <chat/log/log.hpp>
#include <chat/proto/blocks.hpp>
#include <chat/proto/message.hpp>
#include <chat/proto/names.hpp>
#include <chat/proto/people.hpp>
#include <chat/stomp/encoder.hpp>

#include <algorithm>
#include <charconv>

namespace chat::gateway {

namespace {

// Payloads on the bus were validated by whoever published them; this bound only keeps a
// malformed giant out of every session's queue.
constexpr std::size_t max_bus_content_code_points = 1'000'000;

std::string event_id(char prefix, std::uint64_t n) {
  char digits[24];
  const auto end = std::to_chars(digits, digits + sizeof digits, n).ptr;
  std::string out(1, prefix);
  out.append(digits, end);
  return out;
}

}  // namespace

std::string channel_name(const channel_key& key) {
  switch (key.kind) {
    case channel_kind::room: return proto::room_channel(key.room_id);
    case channel_kind::typing: return proto::typing_channel(key.room_id);
    case channel_kind::user: return proto::user_channel(key.room_id);
    case channel_kind::room_list: return {};
  }
  return {};
}

std::optional<channel_key> parse_channel_name(std::string_view channel) noexcept {
  if (const auto room = proto::parse_room_channel(channel)) return channel_key{channel_kind::room, *room};
  if (const auto room = proto::parse_typing_channel(channel)) return channel_key{channel_kind::typing, *room};
  if (const auto user = proto::parse_user_channel(channel)) return channel_key{channel_kind::user, *user};
  return std::nullopt;
}

std::shared_ptr<const std::string> make_json_tail(std::string_view destination, std::string_view json,
                                                  std::string_view chat_event) {
  auto tail = std::make_shared<std::string>();
  tail->reserve(destination.size() + json.size() + chat_event.size() + 96);
  // Shared by STOMP 1.0 and 1.2 sessions alike, so written literally: destinations and event
  // names hold no octet that 1.2 escapes.
  auto w = stomp::frame_writer::continuation(*tail, {.escape = false});
  w.header("destination", destination);
  if (!chat_event.empty()) w.header("chat-event", chat_event);
  w.header("content-type", "application/json").content_length(json.size()).finish(json);
  return tail;
}

std::shared_ptr<fanout_event> make_room_event(const proto::chat_message& message, std::string_view json) {
  auto event = std::make_shared<fanout_event>();
  event->kind = event_kind::room;
  event->room_id = message.room_id;
  event->id = message.id;
  // 0 is a real id (offset 0 of partition 0); only a payload without one (-1) falls back.
  event->message_id = message.id >= 0 ? std::to_string(message.id) : message.message_key;
  event->sent_at_ms = message.created_at_ms;
  event->departed_user = proto::departed_member(message).value_or(0);
  event->room_deleted = proto::ends_room(message);
  event->blockable_sender = proto::blockable_sender(message);
  event->tail = make_json_tail(proto::room_destination(message.room_id), json, proto::to_string(message.event));
  return event;
}

std::vector<std::shared_ptr<fanout_target>> fanout_hub::lock_all(const member_map& members) {
  std::vector<std::shared_ptr<fanout_target>> out;
  out.reserve(members.size());
  for (const auto& [ptr, weak] : members) {
    if (auto t = weak.lock()) out.push_back(std::move(t));
  }
  return out;
}

void fanout_hub::join(const channel_key& key, const std::shared_ptr<fanout_target>& target) {
  bool armed = false;
  {
    std::lock_guard lock(mutex_);
    auto [it, created] = channels_.try_emplace(key);
    auto& state = it->second;
    state.members.insert_or_assign(target.get(), target);
    if (created && control_ != nullptr) control_->subscribe(channel_name(key));
    if (state.armed) {
      armed = true;
    } else {
      state.waiting.push_back(target);
    }
  }
  if (armed) target->armed(key);
}

void fanout_hub::leave(const channel_key& key, const fanout_target* target) {
  std::lock_guard lock(mutex_);
  const auto it = channels_.find(key);
  if (it == channels_.end()) return;
  it->second.members.erase(target);
  if (!it->second.members.empty()) return;
  channels_.erase(it);
  if (control_ != nullptr) control_->unsubscribe(channel_name(key));
}

void fanout_hub::add_user_session(std::int64_t user_id, const std::shared_ptr<fanout_target>& target) {
  std::lock_guard lock(users_mutex_);
  user_sessions_[user_id].insert_or_assign(target.get(), target);
}

void fanout_hub::remove_user_session(std::int64_t user_id, const fanout_target* target) {
  std::lock_guard lock(users_mutex_);
  const auto it = user_sessions_.find(user_id);
  if (it == user_sessions_.end()) return;
  it->second.erase(target);
  if (it->second.empty()) user_sessions_.erase(it);
}

void fanout_hub::on_profile(std::string_view json) {
  proto::profile_updated_event profile;
  if (auto error = proto::parse_profile_updated_event(json, profile)) {
    dropped_.fetch_add(1, std::memory_order_relaxed);
    log::warn("dropping malformed profile event from the bus", {{"error", error.message}});
    return;
  }
  std::vector<std::shared_ptr<fanout_target>> targets;
  {
    std::lock_guard lock(users_mutex_);
    const auto it = user_sessions_.find(profile.user_id);
    if (it == user_sessions_.end()) return;
    targets = lock_all(it->second);
  }
  for (const auto& t : targets) t->nickname_changed(profile.nickname);
}

void fanout_hub::watch(const std::vector<std::int64_t>& user_ids, const std::shared_ptr<fanout_target>& target) {
  std::lock_guard lock(mutex_);
  for (const auto user : user_ids) watches_[user].watchers.insert_or_assign(target.get(), target);
}

void fanout_hub::unwatch(const std::vector<std::int64_t>& user_ids, const fanout_target* target) {
  std::lock_guard lock(mutex_);
  for (const auto user : user_ids) {
    const auto it = watches_.find(user);
    if (it == watches_.end()) continue;
    it->second.watchers.erase(target);
    if (it->second.watchers.empty()) watches_.erase(it);
  }
}

std::vector<std::string> fanout_hub::channels() const {
  std::lock_guard lock(mutex_);
  std::vector<std::string> out;
  out.reserve(channels_.size());
  for (const auto& [key, state] : channels_) out.push_back(channel_name(key));
  return out;
}

void fanout_hub::on_armed(std::string_view channel) {
  const auto key = parse_channel_name(channel);
  if (!key) return;
  std::vector<std::weak_ptr<fanout_target>> waiting;
  {
    std::lock_guard lock(mutex_);
    const auto it = channels_.find(*key);
    if (it == channels_.end()) return;
    it->second.armed = true;
    waiting.swap(it->second.waiting);
  }
  for (const auto& weak : waiting) {
    if (auto t = weak.lock()) t->armed(*key);
  }
}

void fanout_hub::on_disconnected() {
  std::lock_guard lock(mutex_);
  for (auto& [key, state] : channels_) {
    state.armed = false;
    state.replay.clear();  // what was published meanwhile is lost to this node
  }
}

std::optional<std::vector<std::shared_ptr<const fanout_event>>> fanout_hub::replay_since(std::int64_t room_id,
                                                                                         std::int64_t since_id,
                                                                                         std::size_t limit) const {
  std::vector<std::shared_ptr<const fanout_event>> out;
  {
    std::lock_guard lock(mutex_);
    const auto it = channels_.find(channel_key{channel_kind::room, room_id});
    if (it == channels_.end() || !it->second.armed) return std::nullopt;
    const auto& replay = it->second.replay;
    // The oldest remembered event must not be newer than since_id: else some in between may
    // have been forgotten (or published before the channel was armed).
    if (replay.empty() || replay.front()->id > since_id) return std::nullopt;
    for (const auto& e : replay) {
      if (e->id <= since_id) continue;
      if (out.size() == limit) return std::nullopt;
      out.push_back(e);
    }
  }
  // A rebalanced broadcast consumer may publish a record again: in id order, each once.
  std::stable_sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a->id < b->id; });
  out.erase(std::unique(out.begin(), out.end(), [](const auto& a, const auto& b) { return a->id == b->id; }),
            out.end());
  return out;
}

void fanout_hub::publish(const channel_key& key, std::shared_ptr<const fanout_event> event) {
  std::vector<std::shared_ptr<fanout_target>> targets;
  {
    std::lock_guard lock(mutex_);
    const auto it = channels_.find(key);
    if (it == channels_.end()) return;
    auto& state = it->second;
    // Remembered under the same lock the members are read with: a session that asks
    // replay_since() after joining gets each event from memory, live, or both (its seam keeps
    // one), never neither.
    if (key.kind == channel_kind::room && state.armed && replay_depth_ > 0 && event->id >= 0 && !event->read_mark) {
      state.replay.push_back(event);
      if (state.replay.size() > replay_depth_) state.replay.pop_front();
    }
    targets = lock_all(state.members);
  }
  for (const auto& t : targets) t->deliver(event);
}

void fanout_hub::on_room_message(std::int64_t room_id, std::string_view json) {
  if (proto::looks_like_read_event(json)) return on_read_event(room_id, json);
  proto::chat_message message;
  if (auto error = proto::parse_chat_message(json, message, max_bus_content_code_points)) {
    dropped_.fetch_add(1, std::memory_order_relaxed);
    log::warn("dropping malformed room message from the bus", {{"room", room_id}, {"error", error.message}});
    return;
  }
  if (message.room_id != room_id) {
    dropped_.fetch_add(1, std::memory_order_relaxed);
    log::warn("dropping room message published on another room's channel",
              {{"room", room_id}, {"message_room", message.room_id}});
    return;
  }
  if (auto* h = received_latency_.load(std::memory_order_acquire); h != nullptr && message.created_at_ms > 0) {
    const auto since = std::max<std::int64_t>(0, common::now_unix_ms() - message.created_at_ms);
    h->observe(static_cast<double>(since) / 1000.0);
  }
  if (recent_ != nullptr) recent_->record(message);
  if (listener_ != nullptr) listener_->on_room_event(message);
  publish(channel_key{channel_kind::room, room_id}, make_room_event(message, json));
}

void fanout_hub::on_read_event(std::int64_t room_id, std::string_view json) {
  proto::read_event read;
  if (auto error = proto::parse_read_event(json, read); error || read.room_id != room_id) {
    dropped_.fetch_add(1, std::memory_order_relaxed);
    log::warn("dropping malformed read event from the bus", {{"room", room_id}});
    return;
  }
  if (listener_ != nullptr) listener_->on_read(read.room_id, read.user_id, read.last_read_message_id);
  auto event = std::make_shared<fanout_event>();
  event->kind = event_kind::room;
  event->room_id = room_id;
  event->user_id = read.user_id;
  event->read_mark = true;
  event->message_id = proto::read_event_message_id(read);
  event->tail = make_json_tail(proto::room_destination(room_id), json, proto::read_event_name);
  publish(channel_key{channel_kind::room, room_id}, std::move(event));
}

void fanout_hub::on_typing(std::int64_t room_id, std::string_view json) {
  proto::typing_event typing;
  if (auto error = proto::parse_typing_event(json, typing); error || typing.room_id != room_id) {
    dropped_.fetch_add(1, std::memory_order_relaxed);
    log::warn("dropping malformed typing notice from the bus", {{"room", room_id}});
    return;
  }
  auto event = std::make_shared<fanout_event>();
  event->kind = event_kind::typing;
  event->room_id = room_id;
  event->user_id = typing.user_id;
  event->blockable_sender = typing.user_id;
  event->message_id = event_id('t', next_event_.fetch_add(1, std::memory_order_relaxed));
  event->tail = make_json_tail(proto::room_typing_destination(room_id), json);
  publish(channel_key{channel_kind::typing, room_id}, std::move(event));
}

void fanout_hub::on_user_event(std::int64_t user_id, std::string_view json) {
  if (proto::room_membership_event membership; !proto::parse_room_membership_event(json, membership)) {
    if (listener_ != nullptr) listener_->on_membership(user_id, membership);
    return;
  }
  std::string_view name = proto::message_hidden_event_name;
  if (proto::looks_like_friend_event(json)) {
    proto::friend_event friend_event;
    if (auto error = proto::parse_friend_event(json, friend_event)) {
      dropped_.fetch_add(1, std::memory_order_relaxed);
      log::warn("dropping malformed friend event from the bus", {{"user", user_id}, {"error", error.message}});
      return;
    }
    name = proto::to_string(friend_event.kind);
    if (listener_ != nullptr) listener_->on_notice(user_id, name, json);
  } else if (proto::message_hidden_event hidden; auto error = proto::parse_message_hidden_event(json, hidden)) {
    dropped_.fetch_add(1, std::memory_order_relaxed);
    log::warn("dropping malformed user event from the bus", {{"user", user_id}, {"error", error.message}});
    return;
  }
  auto event = std::make_shared<fanout_event>();
  event->kind = event_kind::user;
  event->user_id = user_id;
  event->message_id = event_id('u', next_event_.fetch_add(1, std::memory_order_relaxed));
  event->tail = make_json_tail(proto::destinations::user_notifications, json, name);
  publish(channel_key{channel_kind::user, user_id}, std::move(event));
}

void fanout_hub::on_presence(std::string_view json) {
  proto::presence_event presence;
  if (auto error = proto::parse_presence_event(json, presence)) {
    dropped_.fetch_add(1, std::memory_order_relaxed);
    log::warn("dropping malformed presence event from the bus", {{"error", error.message}});
    return;
  }
  deliver_presence(presence, json);
}

void fanout_hub::on_presence_expired(std::int64_t user_id, std::int64_t at_ms) {
  const proto::presence_event presence{user_id, proto::presence_status::offline, at_ms};
  std::string json;
  proto::append_json(presence, json);
  deliver_presence(presence, json);
}

void fanout_hub::deliver_presence(const proto::presence_event& presence, std::string_view json) {
  std::vector<std::shared_ptr<fanout_target>> targets;
  {
    std::lock_guard lock(mutex_);
    const auto it = watches_.find(presence.user_id);
    if (it == watches_.end()) return;
    // A crashed node's users can be reported twice (key expiry, then a surviving node's
    // cleanup): each node delivers a status change once.
    if (it->second.last == presence.status) return;
    it->second.last = presence.status;
    targets = lock_all(it->second.watchers);
  }
  auto event = std::make_shared<fanout_event>();
  event->kind = event_kind::presence;
  event->user_id = presence.user_id;
  event->message_id = event_id('p', next_event_.fetch_add(1, std::memory_order_relaxed));
  event->tail = make_json_tail(proto::destinations::presence, json);
  std::shared_ptr<const fanout_event> shared = std::move(event);
  for (const auto& t : targets) t->deliver(shared);
}

void fanout_hub::on_block_change(std::string_view json) {
  proto::block_change change;
  if (auto error = proto::parse_block_change(json, change)) {
    dropped_.fetch_add(1, std::memory_order_relaxed);
    log::warn("dropping malformed block change from the bus", {{"error", error.message}});
    return;
  }
  if (listener_ != nullptr) listener_->on_block_change(change);
  std::vector<std::shared_ptr<fanout_target>> targets;
  {
    std::lock_guard lock(users_mutex_);
    for (const auto user : {change.blocker_id, change.blocked_id}) {
      const auto it = user_sessions_.find(user);
      if (it == user_sessions_.end()) continue;
      auto locked = lock_all(it->second);
      targets.insert(targets.end(), std::make_move_iterator(locked.begin()), std::make_move_iterator(locked.end()));
    }
  }
  for (const auto& t : targets) t->block_changed(change);
}

void fanout_hub::on_membership_revoked(std::string_view json) {
  proto::membership_revoked revoked;
  if (auto error = proto::parse_membership_revoked(json, revoked)) {
    dropped_.fetch_add(1, std::memory_order_relaxed);
    log::warn("dropping malformed membership revocation from the bus", {{"error", error.message}});
    return;
  }
  std::vector<std::shared_ptr<fanout_target>> targets;
  {
    std::lock_guard lock(users_mutex_);
    for (const auto user : revoked.user_ids) {
      const auto it = user_sessions_.find(user);
      if (it == user_sessions_.end()) continue;
      auto locked = lock_all(it->second);
      targets.insert(targets.end(), std::make_move_iterator(locked.begin()), std::make_move_iterator(locked.end()));
    }
  }
  for (const auto& t : targets) t->membership_revoked(revoked.room_id);
}

std::size_t fanout_hub::registered_users() const {
  std::lock_guard lock(users_mutex_);
  return user_sessions_.size();
}

std::size_t fanout_hub::local_channels() const {
  std::lock_guard lock(mutex_);
  return channels_.size();
}

bool fanout_hub::is_joined(const channel_key& key) const {
  std::lock_guard lock(mutex_);
  return channels_.contains(key);
}

std::size_t fanout_hub::watched_users() const {
  std::lock_guard lock(mutex_);
  return watches_.size();
}

}  // namespace chat::gateway
