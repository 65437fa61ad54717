#pragma once
// The live room list of a node (SPEC §14, docs/stomp.md "The live room list"): for every user
// with a /user/queue/rooms subscriber (a STOMP session) or a GET /api/rooms/stream reader (an
// SSE sink) on this node, the user's room list in memory (room_list.hpp) and the events that
// change it: room.added, room.updated (a new message: lastMessage, unreadCount; the user's own
// read mark), room.removed.
//
//   first watcher of a user --join chat:user:{id}--> fanout_hub; --room_list()--> directory (one
//     query: the rows of GET /api/rooms) --> join chat:room:{id} of each room as a watcher
//   hub: room event of a watched room --> room_list::apply per watching user --> room.updated
//   hub: {"event":"room.added"} on chat:user:{id} --> join the room's channel, load that one row
//     --> room.added;  {"event":"room.removed"} --> leave it --> room.removed
//   hub: the user's own read mark (chat-event:read) --> unreadCount recount --> room.updated
//   hub: a block made or lifted by the user (chat:blocks) --> the list's block set; the list read
//     again (one query) --> room.updated for rooms whose lastMessage the change concerns
//   hub: room.deleted of a watched room --> leave it --> room.removed for every watcher
//
// No database query per message: only at the first watcher of a user and per membership change.
// Each event gets a sequence number (the node's, increasing); SSE ids are "<feed token>-<seq>".
// A user's state outlives their last watcher by settings.replay (an SSE reader that reconnects
// within it with Last-Event-ID gets what it missed from a ring of at most settings.ring_events
// events per user), then it is dropped and its channels left.
//
// Thread-safe. Sinks and targets are called with the feed's lock held (that keeps each one's
// events in order): they must post and return, never call back into the feed.
#include "gateway/fanout_hub.hpp"
#include "gateway/ports.hpp"
#include "gateway/room_list.hpp"

#include <chat/proto/rest.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace chat::gateway {

struct room_feed_settings {
  std::chrono::milliseconds replay{60000};  // --sse-replay: how long events stay replayable
  std::size_t ring_events = 256;            // per user, at most
  // A room.added waits this long at most for its room's channel to be armed.
  std::chrono::milliseconds arm_wait{2000};
};

// One event of a user's feed, shared by every sink of the user.
struct room_feed_item {
  std::uint64_t seq = 0;
  time_point at{};
  bool snapshot = false;         // the SSE "snapshot" event (json: the GET /api/rooms body)
  proto::room_feed_kind kind{};  // a room event (not snapshot, not a notice)
  // The SSE event name: "snapshot", the room_feed_kind's, or a notice's (a friend event).
  std::string_view event;
  std::shared_ptr<const std::string> json;
};

// A GET /api/rooms/stream reader (api side). Called with the feed's lock held: post and return.
class room_feed_sink {
 public:
  virtual ~room_feed_sink() = default;
  // The snapshot first (or, after a reconnect within the replay window, the missed events),
  // then every event, in order.
  virtual void feed_event(const std::shared_ptr<const room_feed_item>& item) = 0;
  // The feed is shutting down: nothing follows.
  virtual void feed_closed() = 0;
};

class room_feed final : public fanout_target,
                        public room_event_listener,
                        public std::enable_shared_from_this<room_feed> {
 public:
  room_feed(fanout_hub& hub, directory& dir, const clock_source& clock, room_feed_settings settings);
  ~room_feed() override;
  room_feed(const room_feed&) = delete;
  room_feed& operator=(const room_feed&) = delete;

  // ---- STOMP (session strands) ----
  // A session's first /user/queue/rooms subscription. target->armed({room_list, user}) once the
  // user's list is loaded and its channels armed; then target->deliver() of event_kind::room_list
  // events (tail: the MESSAGE to /user/queue/rooms, message-id "f<seq>").
  void watch(std::int64_t user_id, const std::shared_ptr<fanout_target>& target);
  void unwatch(std::int64_t user_id, const fanout_target* target);

  // ---- SSE (any thread) ----
  // `last_event_id`: the client's Last-Event-ID. The sink gets the missed events when they are
  // all still here, else a snapshot, then every event. False during shutdown (nothing attached).
  bool attach(std::int64_t user_id, std::string_view last_event_id, const std::shared_ptr<room_feed_sink>& sink);
  void detach(std::int64_t user_id, const room_feed_sink* sink);
  // "<token>-<seq>": the SSE id of an item.
  std::string event_id(const room_feed_item& item) const;

  // Every 250 ms or so (gateway): room.added past arm_wait, expired rings and users.
  void tick();
  // Shutdown: every sink gets feed_closed(); attach() refuses from now on.
  void shutdown();

  // ---- hub (bus thread) ----
  void on_room_event(const proto::chat_message& event) override;
  void on_membership(std::int64_t user_id, const proto::room_membership_event& event) override;
  // A read mark on a room channel (proto read event): only the reader's own list changes.
  void on_read(std::int64_t room_id, std::int64_t user_id, std::int64_t last_read) override;
  // A friend event of the user: to their SSE readers (and the replay ring), in order with the
  // room events; /user/queue/rooms subscribers get it on /user/queue/notifications instead.
  void on_notice(std::int64_t user_id, std::string_view event, std::string_view json) override;
  // A block made or lifted (chat:blocks): the blocker's list hides (or shows again) the other's
  // messages.
  void on_block_change(const proto::block_change& change) override;

  // fanout_target: the feed gets room events through on_room_event (parsed once by the hub).
  void deliver(std::shared_ptr<const fanout_event>) override {}
  void armed(const channel_key& key) override;

  // ---- introspection ----
  std::size_t users() const;
  std::size_t sinks() const;

 private:
  struct pending_add {
    std::int64_t room_id = 0;
    std::optional<proto::room_summary> summary;  // loaded
    time_point since{};
    bool loading = false;
    int attempts = 0;
    time_point retry_at{};
    std::vector<proto::chat_message> early;  // its room events that came before the row
  };

  struct user_state {
    explicit user_state(std::int64_t user) : list(user) {}
    room_list list;
    bool loaded = false;
    bool loading = false;
    // The list was read once more after every room's channel was armed (maybe_refresh).
    bool refreshed = false;
    std::unordered_map<const fanout_target*, std::weak_ptr<fanout_target>> targets;
    std::vector<std::weak_ptr<fanout_target>> awaiting_armed;
    struct sink_entry {
      std::weak_ptr<room_feed_sink> sink;
      std::optional<std::uint64_t> replay_after;  // reconnect: replay instead of a snapshot
    };
    std::unordered_map<const room_feed_sink*, sink_entry> sinks;
    std::vector<std::shared_ptr<room_feed_sink>> awaiting_load;  // SSE: snapshot after the load
    std::deque<std::shared_ptr<const room_feed_item>> ring;
    std::uint64_t floor_seq = 0;  // events after this one are all in the ring
    std::vector<pending_add> adds;
    std::vector<proto::block_change> early_blocks;  // heard while the list loaded: applied after
    time_point idle_since{};                        // no target and no sink since
    time_point retry_at{};                          // the list's load failed: tick() tries again from then
  };

  using lock_t = std::unique_lock<std::mutex>;

  user_state& state_of(std::int64_t user_id);  // creates; mutex_ held
  bool idle(const user_state& u) const noexcept { return u.targets.empty() && u.sinks.empty(); }
  void start_load(std::int64_t user_id);  // mutex_ not held
  void on_loaded(std::int64_t user_id, lookup_status status, room_list_page page);
  void load_room(std::int64_t user_id, std::int64_t room_id);  // mutex_ not held
  void on_room_loaded(std::int64_t user_id, std::int64_t room_id, lookup_status status,
                      std::optional<proto::room_summary> room);
  // Emits every pending room.added whose channel is armed (or `force`d past arm_wait). mutex_ held.
  void flush_adds(user_state& u, bool force_expired);
  // The user's STOMP watchers waiting for the list to be live. mutex_ held.
  void check_ready(user_state& u);
  // Once the list is loaded and every room's channel armed: queue one more read of the list
  // (a message broadcast between the load and the arming reached no channel here). mutex_ held.
  void maybe_refresh(user_state& u);
  // The queued reads; mutex_ not held.
  void start_refreshes();
  void on_refreshed(std::int64_t user_id, lookup_status status, std::vector<proto::room_summary> rooms);
  // After a block change of the user: the list read again (mutex_ not held), then its rows.
  void start_block_refresh(const proto::block_change& change);
  void on_block_refreshed(const proto::block_change& change, lookup_status status,
                          std::vector<proto::room_summary> rooms);
  void armed_locked(const channel_key& key);
  // Emits one event to the user's sinks and targets and keeps it in the ring. mutex_ held.
  void emit(user_state& u, proto::room_feed_kind kind, const proto::room_summary& room);
  void send_snapshot(user_state& u, const std::shared_ptr<room_feed_sink>& sink);
  // Keeps `item` in the user's ring and hands it to their SSE sinks. mutex_ held.
  void to_sinks(user_state& u, const std::shared_ptr<const room_feed_item>& item);
  // room.deleted on a room channel: room.removed for every user watching the room (their
  // chat:user room.removed, published by the REST path, changes nothing after it). mutex_ not held.
  void on_room_deleted(std::int64_t room_id);
  // The user's list loses the room: room.removed when it had it. mutex_ held.
  void remove_room(std::int64_t user_id, std::int64_t room_id);
  void watch_room(std::int64_t user_id, std::int64_t room_id);    // mutex_ held
  void unwatch_room(std::int64_t user_id, std::int64_t room_id);  // mutex_ held
  void trim_ring(user_state& u, time_point now);
  // Makes the hub's memberships match what the users need; call without mutex_.
  void reconcile();

  fanout_hub& hub_;
  directory& dir_;
  const clock_source& clock_;
  const room_feed_settings settings_;
  const std::string token_;

  std::mutex ops_mutex_;  // serialises reconcile() (the hub calls happen outside mutex_)
  mutable std::mutex mutex_;
  std::unordered_map<std::int64_t, std::unique_ptr<user_state>> users_;
  std::vector<std::int64_t> refresh_due_;  // users whose list is to be read again (maybe_refresh)
  std::unordered_map<std::int64_t, std::unordered_set<std::int64_t>> room_users_;  // room -> watching users
  std::unordered_set<std::int64_t> dirty_rooms_;                                   // reconcile() looks at these
  std::unordered_set<std::int64_t> dirty_users_;
  std::unordered_set<std::int64_t> joined_rooms_;  // hub memberships (ops_mutex_ and mutex_)
  std::unordered_set<std::int64_t> joined_users_;
  std::unordered_set<std::int64_t> armed_rooms_;  // confirmed by the hub
  std::unordered_set<std::int64_t> armed_users_;
  std::uint64_t seq_ = 0;
  bool shut_down_ = false;
};

}  // namespace chat::gateway
