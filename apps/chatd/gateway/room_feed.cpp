#include "gateway/room_feed.hpp"

#include <chat/log/log.hpp>
#include <chat/proto/names.hpp>

#include <algorithm>
#include <charconv>
#include <random>
#include <span>

namespace chat::gateway {

namespace {

constexpr int max_room_load_attempts = 5;
constexpr std::chrono::milliseconds feed_retry_after{1000};
// Room events that arrive for a room while its room.added row is loading, applied after it.
constexpr std::size_t max_early_events = 64;

std::string feed_token() {
  std::random_device rd;
  std::uint64_t n = (static_cast<std::uint64_t>(rd()) << 32) ^ rd();
  static constexpr char digits[] = "0123456789abcdefghijklmnopqrstuvwxyz";
  std::string out;
  for (int i = 0; i < 8; ++i) {
    out.push_back(digits[n % 36]);
    n /= 36;
  }
  return out;
}

std::string feed_message_id(std::uint64_t seq) {
  char digits[24];
  const auto end = std::to_chars(digits, digits + sizeof digits, seq).ptr;
  std::string out(1, 'f');
  out.append(digits, end);
  return out;
}

}  // namespace

room_feed::room_feed(fanout_hub& hub, directory& dir, const clock_source& clock, room_feed_settings settings)
    : hub_(hub), dir_(dir), clock_(clock), settings_(settings), token_(feed_token()) {}

room_feed::~room_feed() = default;

room_feed::user_state& room_feed::state_of(std::int64_t user_id) {
  auto& slot = users_[user_id];
  if (!slot) {
    slot = std::make_unique<user_state>(user_id);
    slot->floor_seq = seq_;
    dirty_users_.insert(user_id);
  }
  return *slot;
}

// ---- STOMP ----------------------------------------------------------------------------------

void room_feed::watch(std::int64_t user_id, const std::shared_ptr<fanout_target>& target) {
  bool load = false;
  {
    lock_t lock(mutex_);
    auto& u = state_of(user_id);
    u.targets.insert_or_assign(target.get(), target);
    u.awaiting_armed.push_back(target);
    if (!u.loaded && !u.loading) load = u.loading = true;
    check_ready(u);
  }
  reconcile();
  if (load) start_load(user_id);
}

void room_feed::unwatch(std::int64_t user_id, const fanout_target* target) {
  lock_t lock(mutex_);
  const auto it = users_.find(user_id);
  if (it == users_.end()) return;
  auto& u = *it->second;
  u.targets.erase(target);
  std::erase_if(u.awaiting_armed, [&](const std::weak_ptr<fanout_target>& w) {
    const auto t = w.lock();
    return !t || t.get() == target;
  });
  if (idle(u)) u.idle_since = clock_.now();
}

// ---- SSE ------------------------------------------------------------------------------------

std::string room_feed::event_id(const room_feed_item& item) const {
  std::string out = token_;
  out.push_back('-');
  out.append(std::to_string(item.seq));
  return out;
}

bool room_feed::attach(std::int64_t user_id, std::string_view last_event_id,
                       const std::shared_ptr<room_feed_sink>& sink) {
  bool load = false;
  {
    lock_t lock(mutex_);
    if (shut_down_) return false;
    auto& u = state_of(user_id);
    std::optional<std::uint64_t> after;
    if (last_event_id.size() > token_.size() + 1 && last_event_id.starts_with(token_) &&
        last_event_id[token_.size()] == '-') {
      const auto digits = last_event_id.substr(token_.size() + 1);
      std::uint64_t seq = 0;
      const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), seq);
      if (ec == std::errc{} && end == digits.data() + digits.size() && seq >= u.floor_seq && seq <= seq_) after = seq;
    }
    if (!u.loaded) {
      u.awaiting_load.push_back(sink);
      if (!u.loading) load = u.loading = true;
    } else if (after) {
      trim_ring(u, clock_.now());
      if (*after >= u.floor_seq) {
        for (const auto& item : u.ring) {
          if (item->seq > *after) sink->feed_event(item);
        }
      } else {
        send_snapshot(u, sink);
      }
      u.sinks.insert_or_assign(sink.get(), user_state::sink_entry{sink, after});
    } else {
      send_snapshot(u, sink);
      u.sinks.insert_or_assign(sink.get(), user_state::sink_entry{sink, std::nullopt});
    }
  }
  reconcile();
  if (load) start_load(user_id);
  return true;
}

void room_feed::detach(std::int64_t user_id, const room_feed_sink* sink) {
  lock_t lock(mutex_);
  const auto it = users_.find(user_id);
  if (it == users_.end()) return;
  auto& u = *it->second;
  u.sinks.erase(sink);
  std::erase_if(u.awaiting_load, [&](const std::shared_ptr<room_feed_sink>& s) { return s.get() == sink; });
  if (idle(u) && u.awaiting_load.empty()) u.idle_since = clock_.now();
}

void room_feed::send_snapshot(user_state& u, const std::shared_ptr<room_feed_sink>& sink) {
  const auto rooms = u.list.snapshot();
  auto json = std::make_shared<std::string>();
  proto::append_json(std::span<const proto::room_summary>(rooms), *json);
  auto item = std::make_shared<room_feed_item>();
  item->seq = seq_;  // everything up to here is in it
  item->at = clock_.now();
  item->snapshot = true;
  item->event = "snapshot";
  item->json = std::move(json);
  sink->feed_event(item);
}

// ---- loading --------------------------------------------------------------------------------

void room_feed::start_load(std::int64_t user_id) {
  std::weak_ptr<room_feed> weak = weak_from_this();
  dir_.room_list(user_id, [weak, user_id](lookup_status status, room_list_page page) {
    if (auto self = weak.lock()) self->on_loaded(user_id, status, std::move(page));
  });
}

void room_feed::on_loaded(std::int64_t user_id, lookup_status status, room_list_page page) {
  {
    lock_t lock(mutex_);
    const auto it = users_.find(user_id);
    if (it == users_.end()) return;
    auto& u = *it->second;
    u.loading = false;
    if (status != lookup_status::found) {
      // tick() tries again; the watchers' RECEIPT goes out after arm_wait anyway.
      u.retry_at = clock_.now() + feed_retry_after;
      log::warn("room list unavailable; retrying", {{"user", user_id}});
      return;
    }
    u.list.load(std::move(page.rooms));
    u.list.set_blocks(std::move(page.blocks));
    // Heard while the list loaded: the read may have come before or after them.
    for (const auto& change : u.early_blocks) u.list.block_changed(change.blocked_id, change.blocked);
    u.early_blocks.clear();
    u.loaded = true;
    for (const auto room : u.list.room_ids()) watch_room(user_id, room);
    // Rooms added while the list loaded: already in it, or still to load.
    std::erase_if(u.adds, [&](const pending_add& a) { return u.list.contains(a.room_id); });
    for (auto& sink : u.awaiting_load) {
      send_snapshot(u, sink);
      u.sinks.insert_or_assign(sink.get(), user_state::sink_entry{sink, std::nullopt});
    }
    u.awaiting_load.clear();
    check_ready(u);
    maybe_refresh(u);
    flush_adds(u, false);
  }
  reconcile();
  start_refreshes();
}

void room_feed::load_room(std::int64_t user_id, std::int64_t room_id) {
  std::weak_ptr<room_feed> weak = weak_from_this();
  dir_.room_summary(user_id, room_id,
                    [weak, user_id, room_id](lookup_status status, std::optional<proto::room_summary> room) {
                      if (auto self = weak.lock()) self->on_room_loaded(user_id, room_id, status, std::move(room));
                    });
}

void room_feed::on_room_loaded(std::int64_t user_id, std::int64_t room_id, lookup_status status,
                               std::optional<proto::room_summary> room) {
  {
    lock_t lock(mutex_);
    const auto it = users_.find(user_id);
    if (it == users_.end()) return;
    auto& u = *it->second;
    const auto add = std::find_if(u.adds.begin(), u.adds.end(),
                                  [&](const pending_add& a) { return a.room_id == room_id && !a.summary; });
    if (add == u.adds.end()) return;  // removed again meanwhile
    add->loading = false;
    if (status == lookup_status::found && room) {
      add->summary = std::move(room);
      flush_adds(u, false);
    } else if (status == lookup_status::not_found || ++add->attempts >= max_room_load_attempts) {
      // No longer a member (removed right after), or the store keeps failing: nothing to show.
      u.adds.erase(add);
      if (!u.list.contains(room_id)) unwatch_room(user_id, room_id);
    } else {
      add->retry_at = clock_.now() + feed_retry_after;
    }
  }
  reconcile();
}

// ---- events ---------------------------------------------------------------------------------

void room_feed::emit(user_state& u, proto::room_feed_kind kind, const proto::room_summary& room) {
  auto json = std::make_shared<std::string>();
  json->reserve(256 + (room.last_message ? room.last_message->content.size() : 0));
  proto::append_json(proto::room_feed_event{kind, room}, *json);
  auto item = std::make_shared<room_feed_item>();
  item->seq = ++seq_;
  item->at = clock_.now();
  item->kind = kind;
  item->event = proto::to_string(kind);
  item->json = json;
  std::shared_ptr<const room_feed_item> shared = std::move(item);
  to_sinks(u, shared);
  if (u.targets.empty()) return;
  auto event = std::make_shared<fanout_event>();
  event->kind = event_kind::room_list;
  event->user_id = u.list.user_id();
  event->message_id = feed_message_id(shared->seq);
  event->tail = make_json_tail(proto::destinations::user_rooms, *json, proto::to_string(kind));
  std::shared_ptr<const fanout_event> frame = std::move(event);
  for (const auto& [ptr, weak] : u.targets) {
    if (auto t = weak.lock()) t->deliver(frame);
  }
}

void room_feed::to_sinks(user_state& u, const std::shared_ptr<const room_feed_item>& item) {
  u.ring.push_back(item);
  trim_ring(u, item->at);
  for (auto it = u.sinks.begin(); it != u.sinks.end();) {
    if (auto s = it->second.sink.lock()) {
      s->feed_event(item);
      ++it;
    } else {
      it = u.sinks.erase(it);
    }
  }
}

void room_feed::on_notice(std::int64_t user_id, std::string_view event, std::string_view json) {
  lock_t lock(mutex_);
  const auto it = users_.find(user_id);
  if (it == users_.end()) return;
  auto& u = *it->second;
  // Into the ring even without a reader now: one that reconnects within the replay window
  // with Last-Event-ID gets it.
  auto item = std::make_shared<room_feed_item>();
  item->seq = ++seq_;
  item->at = clock_.now();
  item->event = event;
  item->json = std::make_shared<const std::string>(json);
  to_sinks(u, item);
}

void room_feed::on_room_event(const proto::chat_message& event) {
  if (proto::ends_room(event)) return on_room_deleted(event.room_id);
  lock_t lock(mutex_);
  const auto watchers = room_users_.find(event.room_id);
  if (watchers == room_users_.end()) return;
  for (const auto user_id : watchers->second) {
    const auto it = users_.find(user_id);
    if (it == users_.end() || !it->second->loaded) continue;
    auto& u = *it->second;
    if (!u.list.contains(event.room_id)) {
      // Its room.added row is loading: applied once it is there.
      for (auto& add : u.adds) {
        if (add.room_id == event.room_id && add.early.size() < max_early_events) add.early.push_back(event);
      }
      continue;
    }
    if (const auto* changed = u.list.apply(event)) emit(u, proto::room_feed_kind::updated, *changed);
  }
}

void room_feed::on_room_deleted(std::int64_t room_id) {
  {
    lock_t lock(mutex_);
    const auto watchers = room_users_.find(room_id);
    if (watchers == room_users_.end()) return;
    const std::vector<std::int64_t> users(watchers->second.begin(), watchers->second.end());
    for (const auto user_id : users) remove_room(user_id, room_id);
  }
  reconcile();
}

void room_feed::remove_room(std::int64_t user_id, std::int64_t room_id) {
  const auto it = users_.find(user_id);
  if (it == users_.end()) return;
  auto& u = *it->second;
  std::erase_if(u.adds, [&](const pending_add& a) { return a.room_id == room_id; });
  unwatch_room(user_id, room_id);
  if (u.loaded && u.list.remove(room_id)) {
    proto::room_summary gone;
    gone.id = room_id;
    emit(u, proto::room_feed_kind::removed, gone);
  }
}

void room_feed::on_read(std::int64_t room_id, std::int64_t user_id, std::int64_t last_read) {
  lock_t lock(mutex_);
  const auto it = users_.find(user_id);
  if (it == users_.end() || !it->second->loaded) return;
  auto& u = *it->second;
  if (const auto* changed = u.list.read(room_id, last_read)) emit(u, proto::room_feed_kind::updated, *changed);
}

void room_feed::on_membership(std::int64_t user_id, const proto::room_membership_event& event) {
  bool load = false;
  {
    lock_t lock(mutex_);
    const auto it = users_.find(user_id);
    if (it == users_.end()) return;
    auto& u = *it->second;
    const auto room_id = event.room_id;
    if (event.added) {
      if (u.loaded && u.list.contains(room_id)) return;
      const bool pending =
          std::any_of(u.adds.begin(), u.adds.end(), [&](const pending_add& a) { return a.room_id == room_id; });
      if (pending) return;
      pending_add add;
      add.room_id = room_id;
      add.since = clock_.now();
      add.loading = true;
      u.adds.push_back(std::move(add));
      watch_room(user_id, room_id);
      load = true;
    } else {
      remove_room(user_id, room_id);
    }
  }
  reconcile();
  if (load) load_room(user_id, event.room_id);
}

void room_feed::flush_adds(user_state& u, bool force_expired) {
  if (!u.loaded) return;
  const auto now = clock_.now();
  for (auto it = u.adds.begin(); it != u.adds.end();) {
    const bool ready =
        it->summary && (armed_rooms_.contains(it->room_id) || (force_expired && now - it->since >= settings_.arm_wait));
    if (!ready) {
      ++it;
      continue;
    }
    const auto room_id = it->room_id;
    auto early = std::move(it->early);
    u.list.add(std::move(*it->summary), clock_.unix_ms());
    it = u.adds.erase(it);
    for (const auto& e : early) u.list.apply(e);
    if (const auto* room = u.list.find(room_id)) emit(u, proto::room_feed_kind::added, *room);
  }
}

void room_feed::check_ready(user_state& u) {
  if (!u.loaded || u.awaiting_armed.empty()) return;
  const auto user_id = u.list.user_id();
  if (!armed_users_.contains(user_id)) return;
  for (const auto room : u.list.room_ids()) {
    if (!armed_rooms_.contains(room)) return;
  }
  const channel_key key{channel_kind::room_list, user_id};
  for (const auto& weak : u.awaiting_armed) {
    if (auto t = weak.lock()) t->armed(key);
  }
  u.awaiting_armed.clear();
}

void room_feed::armed(const channel_key& key) {
  armed_locked(key);
  start_refreshes();
}

void room_feed::armed_locked(const channel_key& key) {
  lock_t lock(mutex_);
  if (key.kind == channel_kind::user) {
    if (!joined_users_.contains(key.room_id)) return;
    armed_users_.insert(key.room_id);
    if (const auto it = users_.find(key.room_id); it != users_.end()) check_ready(*it->second);
    return;
  }
  if (key.kind != channel_kind::room || !joined_rooms_.contains(key.room_id)) return;
  armed_rooms_.insert(key.room_id);
  const auto watchers = room_users_.find(key.room_id);
  if (watchers == room_users_.end()) return;
  for (const auto user_id : watchers->second) {
    const auto it = users_.find(user_id);
    if (it == users_.end()) continue;
    flush_adds(*it->second, false);
    check_ready(*it->second);
    maybe_refresh(*it->second);
  }
}

void room_feed::maybe_refresh(user_state& u) {
  if (!u.loaded || u.refreshed) return;
  for (const auto room : u.list.room_ids()) {
    if (!armed_rooms_.contains(room)) return;
  }
  u.refreshed = true;
  if (u.list.size() > 0) refresh_due_.push_back(u.list.user_id());
}

void room_feed::start_refreshes() {
  std::vector<std::int64_t> due;
  {
    lock_t lock(mutex_);
    due.swap(refresh_due_);
  }
  std::weak_ptr<room_feed> weak = weak_from_this();
  for (const auto user_id : due) {
    dir_.room_list(user_id, [weak, user_id](lookup_status status, room_list_page page) {
      if (auto self = weak.lock()) self->on_refreshed(user_id, status, std::move(page.rooms));
    });
  }
}

void room_feed::on_block_change(const proto::block_change& change) {
  {
    lock_t lock(mutex_);
    const auto it = users_.find(change.blocker_id);
    if (it == users_.end()) return;  // nobody watches the blocker's list here
    auto& u = *it->second;
    if (!u.loaded) {
      if (u.early_blocks.size() < static_cast<std::size_t>(proto::max_blocks_per_user)) {
        u.early_blocks.push_back(change);
      }
      return;  // the list's load reads the blocks (and the rows) as they are then
    }
    u.list.block_changed(change.blocked_id, change.blocked);
  }
  start_block_refresh(change);
}

void room_feed::start_block_refresh(const proto::block_change& change) {
  std::weak_ptr<room_feed> weak = weak_from_this();
  dir_.room_list(change.blocker_id, [weak, change](lookup_status status, room_list_page page) {
    if (auto self = weak.lock()) self->on_block_refreshed(change, status, std::move(page.rooms));
  });
}

void room_feed::on_block_refreshed(const proto::block_change& change, lookup_status status,
                                   std::vector<proto::room_summary> rooms) {
  if (status != lookup_status::found) {
    log::warn("room list not read again after a block change; rows correct themselves with the next message",
              {{"user", change.blocker_id}});
    return;
  }
  lock_t lock(mutex_);
  const auto it = users_.find(change.blocker_id);
  if (it == users_.end() || !it->second->loaded) return;
  auto& u = *it->second;
  for (const auto& row : rooms) {
    if (const auto* changed = u.list.block_refresh(row, change.blocked_id, change.blocked)) {
      emit(u, proto::room_feed_kind::updated, *changed);
    }
  }
}

void room_feed::on_refreshed(std::int64_t user_id, lookup_status status, std::vector<proto::room_summary> rooms) {
  if (status != lookup_status::found) return;  // best effort: the next message corrects the row
  lock_t lock(mutex_);
  const auto it = users_.find(user_id);
  if (it == users_.end() || !it->second->loaded) return;
  auto& u = *it->second;
  for (auto& row : rooms) {
    if (const auto* changed = u.list.catch_up(std::move(row))) emit(u, proto::room_feed_kind::updated, *changed);
  }
}

// ---- channels -------------------------------------------------------------------------------

void room_feed::watch_room(std::int64_t user_id, std::int64_t room_id) {
  room_users_[room_id].insert(user_id);
  dirty_rooms_.insert(room_id);
}

void room_feed::unwatch_room(std::int64_t user_id, std::int64_t room_id) {
  const auto it = room_users_.find(room_id);
  if (it == room_users_.end()) return;
  it->second.erase(user_id);
  if (it->second.empty()) room_users_.erase(it);
  dirty_rooms_.insert(room_id);
}

void room_feed::reconcile() {
  std::lock_guard ops(ops_mutex_);
  std::vector<channel_key> joins;
  std::vector<channel_key> leaves;
  {
    lock_t lock(mutex_);
    for (const auto room : dirty_rooms_) {
      const bool needed = room_users_.contains(room);
      if (needed && joined_rooms_.insert(room).second) {
        joins.push_back({channel_kind::room, room});
      } else if (!needed && joined_rooms_.erase(room) > 0) {
        armed_rooms_.erase(room);
        leaves.push_back({channel_kind::room, room});
      }
    }
    dirty_rooms_.clear();
    for (const auto user : dirty_users_) {
      const bool needed = users_.contains(user);
      if (needed && joined_users_.insert(user).second) {
        joins.push_back({channel_kind::user, user});
      } else if (!needed && joined_users_.erase(user) > 0) {
        armed_users_.erase(user);
        leaves.push_back({channel_kind::user, user});
      }
    }
    dirty_users_.clear();
  }
  if (joins.empty() && leaves.empty()) return;
  const auto self = shared_from_this();
  for (const auto& key : leaves) hub_.leave(key, this);
  for (const auto& key : joins) hub_.join(key, self);
}

// ---- time -----------------------------------------------------------------------------------

void room_feed::trim_ring(user_state& u, time_point now) {
  while (!u.ring.empty() && (u.ring.size() > settings_.ring_events || u.ring.front()->at + settings_.replay < now)) {
    u.floor_seq = u.ring.front()->seq;
    u.ring.pop_front();
  }
}

void room_feed::tick() {
  std::vector<std::int64_t> loads;
  std::vector<std::pair<std::int64_t, std::int64_t>> room_loads;
  {
    lock_t lock(mutex_);
    const auto now = clock_.now();
    for (auto it = users_.begin(); it != users_.end();) {
      auto& u = *it->second;
      const auto user_id = it->first;
      trim_ring(u, now);
      flush_adds(u, true);
      if (idle(u) && u.awaiting_load.empty() && now - u.idle_since >= settings_.replay) {
        for (const auto room : u.list.room_ids()) unwatch_room(user_id, room);
        for (const auto& add : u.adds) unwatch_room(user_id, add.room_id);
        dirty_users_.insert(user_id);
        it = users_.erase(it);
        continue;
      }
      if (!u.loaded && !u.loading && (!idle(u) || !u.awaiting_load.empty()) && now >= u.retry_at) {
        u.loading = true;
        loads.push_back(user_id);
      }
      for (auto& add : u.adds) {
        if (!add.summary && !add.loading && now >= add.retry_at) {
          add.loading = true;
          room_loads.emplace_back(user_id, add.room_id);
        }
      }
      ++it;
    }
  }
  reconcile();
  for (const auto user : loads) start_load(user);
  for (const auto& [user, room] : room_loads) load_room(user, room);
}

void room_feed::shutdown() {
  lock_t lock(mutex_);
  shut_down_ = true;
  for (auto& [user_id, u] : users_) {
    for (auto& [ptr, entry] : u->sinks) {
      if (auto s = entry.sink.lock()) s->feed_closed();
    }
    u->sinks.clear();
    for (auto& s : u->awaiting_load) s->feed_closed();
    u->awaiting_load.clear();
    if (idle(*u)) u->idle_since = clock_.now();
  }
}

std::size_t room_feed::users() const {
  lock_t lock(mutex_);
  return users_.size();
}

std::size_t room_feed::sinks() const {
  lock_t lock(mutex_);
  std::size_t n = 0;
  for (const auto& [id, u] : users_) n += u->sinks.size() + u->awaiting_load.size();
  return n;
}

}  // namespace chat::gateway
