#include "gateway/room_list.hpp"

#include <chat/proto/blocks.hpp>

#include <algorithm>
#include <limits>

namespace chat::gateway {

void room_list::load(std::vector<proto::room_summary> rooms) {
  rooms_.clear();
  // The store orders by the newest message, or the room's creation when it has none: a room
  // without a message takes the activity of the room before it, so it keeps its place.
  std::int64_t previous = std::numeric_limits<std::int64_t>::max();
  for (auto& r : rooms) {
    entry e;
    e.newest_id = r.last_message ? r.last_message->id : -1;
    e.base_unread = r.unread_count;
    e.activity_ms = r.last_message ? r.last_message->created_at_ms : previous;
    previous = e.activity_ms;
    e.order = next_order_++;
    const auto id = r.id;
    e.summary = std::move(r);
    rooms_.insert_or_assign(id, std::move(e));
  }
}

void room_list::add(proto::room_summary room, std::int64_t now_ms) {
  entry e;
  e.newest_id = room.last_message ? room.last_message->id : -1;
  e.base_unread = room.unread_count;
  e.activity_ms = room.last_message ? std::max(room.last_message->created_at_ms, now_ms) : now_ms;
  e.order = next_order_++;
  const auto id = room.id;
  e.summary = std::move(room);
  rooms_.insert_or_assign(id, std::move(e));
}

bool room_list::remove(std::int64_t room_id) { return rooms_.erase(room_id) > 0; }

const proto::room_summary* room_list::catch_up(proto::room_summary stored) {
  const auto it = rooms_.find(stored.id);
  if (it == rooms_.end() || !stored.last_message || stored.last_message->id <= it->second.newest_id) return nullptr;
  auto& e = it->second;
  e.newest_id = stored.last_message->id;
  e.base_unread = stored.unread_count;
  e.unread_ids.clear();
  e.activity_ms = std::max(e.activity_ms, stored.last_message->created_at_ms);
  e.summary = std::move(stored);
  return &e.summary;
}

std::vector<std::int64_t> room_list::room_ids() const {
  std::vector<std::int64_t> out;
  out.reserve(rooms_.size());
  for (const auto& [id, e] : rooms_) out.push_back(id);
  return out;
}

void room_list::recount(entry& e) {
  e.summary.unread_count = e.base_unread + static_cast<std::int64_t>(e.unread_ids.size());
}

const proto::room_summary* room_list::add_item(entry& e, const proto::chat_message& item,
                                               const proto::chat_message& event) {
  auto& s = e.summary;
  if (item.id <= e.newest_id) return nullptr;  // counted already (the store's list had it)
  e.newest_id = item.id;
  e.activity_ms = std::max(e.activity_ms, item.created_at_ms);
  s.last_message = item;
  s.last_message->state.reset();
  if (item.sender_id != user_id_) {
    e.unread_ids.push_back(item.id);
    if (e.unread_ids.size() > max_tracked_unread) {
      e.unread_ids.pop_front();
      ++e.base_unread;
    }
    recount(e);
  }
  // Someone else joined or left (the user's own membership: the store's count has it).
  if (const auto joined = proto::joined_member(event); joined && *joined != user_id_) {
    ++s.member_count;
  } else if (const auto departed = proto::departed_member(event);
             departed && *departed != user_id_ && s.member_count > 0) {
    --s.member_count;
  }
  return &s;
}

const proto::room_summary* room_list::apply(const proto::chat_message& event) {
  const auto it = rooms_.find(event.room_id);
  if (it == rooms_.end()) return nullptr;
  // Not for this user's list (nor its unread count), as the store's list skips it.
  if (blocks(proto::blockable_sender(event))) return nullptr;
  auto& e = it->second;
  auto& s = e.summary;
  switch (event.event) {
    case proto::event_kind::message: return add_item(e, event, event);
    case proto::event_kind::edited:
      if (!s.last_message || s.last_message->id != event.target_id) return nullptr;
      if (s.last_message->state && s.last_message->state->deleted) return nullptr;
      s.last_message->content = event.content;
      return &s;
    case proto::event_kind::deleted:
      if (!s.last_message || s.last_message->id != event.target_id) return nullptr;
      if (s.last_message->state && s.last_message->state->deleted) return nullptr;
      // A tombstone, as GET /api/rooms shows it.
      s.last_message->content.clear();
      s.last_message->attachment.reset();
      s.last_message->state = proto::message_state{};
      s.last_message->state->deleted = true;
      return &s;
    case proto::event_kind::reaction_added:
    case proto::event_kind::reaction_removed:
    case proto::event_kind::pinned:
    case proto::event_kind::unpinned:
    case proto::event_kind::preview: return nullptr;
    // Kept as SYSTEM history items (lastMessage, unread like a message); a rename changes the name.
    case proto::event_kind::room_updated:
    case proto::event_kind::member_joined:
    case proto::event_kind::member_left:
    case proto::event_kind::member_removed:
    case proto::event_kind::member_role: {
      const auto* changed = add_item(e, proto::as_history_notice(event), event);
      if (changed != nullptr && event.name) s.name = *event.name;
      return changed;
    }
    case proto::event_kind::room_deleted: return nullptr;  // the feed removes the room (room_feed.cpp)
  }
  return nullptr;
}

const proto::room_summary* room_list::read(std::int64_t room_id, std::int64_t last_read) {
  const auto it = rooms_.find(room_id);
  if (it == rooms_.end()) return nullptr;
  auto& e = it->second;
  const auto before = e.summary.unread_count;
  bool covered_known = false;
  while (!e.unread_ids.empty() && e.unread_ids.front() <= last_read) {
    e.unread_ids.pop_front();
    covered_known = true;
  }
  // The unknown ones are older than every known one, and no newer than the newest seen.
  if (covered_known || last_read >= e.newest_id) e.base_unread = 0;
  recount(e);
  return e.summary.unread_count != before ? &e.summary : nullptr;
}

void room_list::set_blocks(std::vector<std::int64_t> blocks) {
  std::sort(blocks.begin(), blocks.end());
  blocks.erase(std::unique(blocks.begin(), blocks.end()), blocks.end());
  blocks_ = std::move(blocks);
}

void room_list::block_changed(std::int64_t other, bool blocked) {
  const auto at = std::lower_bound(blocks_.begin(), blocks_.end(), other);
  const bool present = at != blocks_.end() && *at == other;
  if (blocked && !present) blocks_.insert(at, other);
  if (!blocked && present) blocks_.erase(at);
}

const proto::room_summary* room_list::block_refresh(const proto::room_summary& stored, std::int64_t other,
                                                    bool blocked) {
  const auto it = rooms_.find(stored.id);
  if (it == rooms_.end()) return nullptr;
  auto& e = it->second;
  auto& shown = e.summary.last_message;
  if (blocked) {
    if (!shown || shown->sender_id != other) return nullptr;
    shown = stored.last_message;  // the newest message not theirs (or none)
    return &e.summary;
  }
  if (!stored.last_message || stored.last_message->sender_id != other) return nullptr;
  if (shown && shown->id >= stored.last_message->id) return nullptr;
  shown = stored.last_message;
  e.newest_id = std::max(e.newest_id, shown->id);
  e.activity_ms = std::max(e.activity_ms, shown->created_at_ms);
  return &e.summary;
}

const proto::room_summary* room_list::find(std::int64_t room_id) const {
  const auto it = rooms_.find(room_id);
  return it == rooms_.end() ? nullptr : &it->second.summary;
}

std::vector<proto::room_summary> room_list::snapshot() const {
  std::vector<const entry*> order;
  order.reserve(rooms_.size());
  for (const auto& [id, e] : rooms_) order.push_back(&e);
  std::sort(order.begin(), order.end(), [](const entry* a, const entry* b) {
    if (a->activity_ms != b->activity_ms) return a->activity_ms > b->activity_ms;
    return a->order < b->order;
  });
  std::vector<proto::room_summary> out;
  out.reserve(order.size());
  for (const auto* e : order) out.push_back(e->summary);
  return out;
}

}  // namespace chat::gateway
