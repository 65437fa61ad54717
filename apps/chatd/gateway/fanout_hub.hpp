#pragma once
// Per-node fan-out: which local sessions receive what arrives on the Redis bus.
//
//   redis_subscriber thread --on_room_message/on_typing/on_presence--> fanout_hub
//        --deliver(shared event)--> each local session (posts to its own strand)
//
// Each bus message becomes ONE immutable fanout_event whose `tail` holds the MESSAGE frame
// from the destination header to the terminating NUL (body included); every subscriber
// shares it and only adds its own small "MESSAGE / subscription / message-id" prefix.
// Subscriber lists are copied under the lock and delivered after it is released.
//
// The hub also decides which bus channels this node needs: chat:room:{id} and
// chat:typing:{id} exactly while some local session subscribes to the room (resp. its
// typing topic), chat:user:{id} while a session of the user subscribes to
// /user/queue/notifications; it tells its channel_control on the first join and after the
// last leave.
// Presence is delivered to the sessions that watch the user (the subscribers of
// /topic/presence who share a room with them).
// Block changes (chat:blocks, which every node always subscribes) go to the connected sessions of
// both users of the pair (docs/stomp.md "Blocks"); the per-receiver filter itself lives in the
// session, on the shared event's blockable_sender.
//
// Thread-safe. No I/O.
#include "core/recent_messages.hpp"
#include "gateway/ports.hpp"
#include "metrics/metrics.hpp"

#include <chat/proto/blocks.hpp>
#include <chat/proto/events.hpp>
#include <chat/proto/message.hpp>

#include <atomic>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace chat::gateway {

// room_list is no bus channel: the key a room feed (room_feed.hpp) arms for a user's
// /user/queue/rooms subscribers once their room list is live.
enum class channel_kind { room, typing, user, room_list };

struct channel_key {
  channel_kind kind = channel_kind::room;
  std::int64_t room_id = 0;  // room, typing: the room; user: the user

  friend bool operator==(const channel_key&, const channel_key&) = default;
};

struct channel_key_hash {
  std::size_t operator()(const channel_key& k) const noexcept {
    return std::hash<std::int64_t>{}(k.room_id * 3 + static_cast<std::int64_t>(k.kind));
  }
};

// Redis channel of a key: chat:room:{id}, chat:typing:{id} or chat:user:{id}.
std::string channel_name(const channel_key& key);
std::optional<channel_key> parse_channel_name(std::string_view channel) noexcept;

enum class event_kind { room, typing, presence, user, room_list };

struct fanout_event {
  event_kind kind = event_kind::room;
  std::int64_t room_id = 0;     // room, typing
  std::int64_t user_id = 0;     // presence, user, room_list (the user whose sessions get it)
  std::int64_t id = -1;         // room: the event's docs/events.md id (-1: none, e.g. a recovery marker)
  std::string message_id;       // the MESSAGE frame's message-id (room: the docs/events.md id)
  std::int64_t sent_at_ms = 0;  // room: the message's createdAt (when the gateway accepted it)
  // room: the event that ends this user's membership (member.left, member.removed:
  // proto::departed_member): their sessions get it and then lose their subscriptions of the room.
  // 0 otherwise.
  std::int64_t departed_user = 0;
  // room: room.deleted -- every session gets it and then loses its subscriptions of the room.
  bool room_deleted = false;
  // room: not a room event but a read mark (proto::read_event, chat-event:read): message_id is
  // "r<room>-<user>-<lastReadMessageId>", no id of its own, never stored nor recovered.
  bool read_mark = false;
  // room: the sender of a message (not SYSTEM) or of an edit; typing: the typing user. A session
  // of a user who blocks them does not get it (docs/stomp.md "Blocks"). 0: everyone gets it.
  std::int64_t blockable_sender = 0;
  // "destination:…\n[chat-event:…\n]content-type:application/json\ncontent-length:N\n\n<json>\0"
  std::shared_ptr<const std::string> tail;
};

// A local receiver (a STOMP session). Both calls may come from any thread, never with a
// hub lock held; implementations post to their own strand and return.
class fanout_target {
 public:
  virtual ~fanout_target() = default;
  virtual void deliver(std::shared_ptr<const fanout_event> event) = 0;
  // The bus subscription of `key` is confirmed: from now on, everything published on it
  // reaches this node (used to answer a SUBSCRIBE's receipt).
  virtual void armed(const channel_key& key) = 0;
  // The user of a session registered with fanout_hub::add_user_session changed their nickname
  // (PATCH /api/users/me on any node): what the session sends from now on carries it. Targets
  // that are no session ignore it.
  virtual void nickname_changed(std::string /*nickname*/) {}
  // A block between this target's user and another was made or lifted (chat:blocks, any node).
  // Only targets registered with fanout_hub::add_user_session get it. Same threading as deliver().
  virtual void block_changed(const proto::block_change& /*change*/) {}
  // This target's user is no longer a member of `room_id` (chat:membership, any node): a session
  // forgets its cached membership, so its next action in the room asks the store. Only targets
  // registered with fanout_hub::add_user_session get it. Same threading as deliver().
  virtual void membership_revoked(std::int64_t /*room_id*/) {}
};

// The shared frame tail for a JSON body (exposed for tests). A non-empty `chat_event` adds the
// header chat-event:<chat_event> (room events: the event's wire name, docs/stomp.md).
std::shared_ptr<const std::string> make_json_tail(std::string_view destination, std::string_view json,
                                                  std::string_view chat_event = {});

// The fan-out event of room event `message` (its docs/events.md `json`, with its id) as every
// subscriber of /topic/room.{id} gets it live; recovery (store rows rendered with
// proto::append_json) makes the same.
std::shared_ptr<fanout_event> make_room_event(const proto::chat_message& message, std::string_view json);
// What the hub tells the node's room feed (room_feed.hpp) besides delivering to sessions: every
// room event of a room channel (parsed once), and the room membership events of user channels
// (proto::room_membership_event), which no session receives. Called on the bus thread, never with
// a hub lock held.
class room_event_listener {
 public:
  virtual ~room_event_listener() = default;
  virtual void on_room_event(const proto::chat_message& event) = 0;
  virtual void on_membership(std::int64_t user_id, const proto::room_membership_event& event) = 0;
  // A member's read mark on a room channel (chat-event:read, proto::read_event).
  virtual void on_read(std::int64_t room_id, std::int64_t user_id, std::int64_t last_read_message_id) = 0;
  // A notice for the user on their user channel that the SSE stream carries too (a friend
  // event, proto people.hpp): `event` its name (a static string), `json` its body.
  virtual void on_notice(std::int64_t user_id, std::string_view event, std::string_view json) = 0;
  // A block change (chat:blocks), for the users' room lists.
  virtual void on_block_change(const proto::block_change& /*change*/) {}
};

class fanout_hub {
 public:
  fanout_hub() = default;
  fanout_hub(const fanout_hub&) = delete;
  fanout_hub& operator=(const fanout_hub&) = delete;

  // Set once, before the first join; may be null (tests without a bus).
  void set_control(channel_control* control) noexcept { control_ = control; }
  // Set once, before the first join; may be null. Every well-formed room event is recorded.
  void set_recent(chatd::recent_messages* recent) noexcept { recent_ = recent; }
  // chat_stage_latency_seconds{stage="node_received"}: seconds since each room event's createdAt
  // when it came from the bus; null (the default, and after the metrics are gone): not measured.
  void set_received_latency(metrics::histogram* h) noexcept { received_latency_.store(h, std::memory_order_release); }
  // Set once, before the first join; may be null.
  void set_listener(room_event_listener* listener) noexcept { listener_ = listener; }
  // Set once, before the first join (--recovery-memory): each room channel remembers its newest
  // `depth` room events while it is armed (0: none), for recoveries served from memory.
  void set_replay_depth(std::size_t depth) noexcept { replay_depth_ = depth; }

  // The room events with id > `since_id` this node had from the bus, oldest first, when it has
  // them all: the room's channel has been armed without a break since an event with an id <=
  // `since_id` that it still remembers, so everything after it is here or still to come live.
  // Nothing (std::nullopt) otherwise, or when there are more than `limit`. Called by a session
  // that is a member of the channel: what is published after this call reaches it live.
  std::optional<std::vector<std::shared_ptr<const fanout_event>>> replay_since(std::int64_t room_id,
                                                                               std::int64_t since_id,
                                                                               std::size_t limit) const;

  // `target` joins the channel. On the first local member, control->subscribe(). When the
  // channel is armed already, target->armed(key) is called before join() returns; otherwise
  // when the bus confirms. Joining twice is harmless.
  void join(const channel_key& key, const std::shared_ptr<fanout_target>& target);
  // After the last local member left, control->unsubscribe().
  void leave(const channel_key& key, const fanout_target* target);

  // The STOMP sessions of each user on this node, whatever they subscribe: profile changes
  // (on_profile) and block changes (on_block_change) reach them. Any thread; adding twice is
  // harmless.
  void add_user_session(std::int64_t user_id, const std::shared_ptr<fanout_target>& target);
  void remove_user_session(std::int64_t user_id, const fanout_target* target);

  // `target` receives presence events of these users.
  void watch(const std::vector<std::int64_t>& user_ids, const std::shared_ptr<fanout_target>& target);
  void unwatch(const std::vector<std::int64_t>& user_ids, const fanout_target* target);

  // ---- bus side (the subscriber thread) ----
  // Channels to (re)subscribe after a (re)connection.
  std::vector<std::string> channels() const;
  // The bus confirmed the subscription of `channel`.
  void on_armed(std::string_view channel);
  // The bus connection was lost: no channel is armed until it is back.
  void on_disconnected();
  // A docs/events.md message JSON published on chat:room:{room_id}, or a read mark
  // (proto::read_event, recognised by its prefix before any full parse). Malformed payloads are
  // dropped.
  void on_room_message(std::int64_t room_id, std::string_view json);
  // A typing_event JSON published on chat:typing:{room_id}.
  void on_typing(std::int64_t room_id, std::string_view json);
  // A user event JSON (proto events.hpp, e.g. message.hidden; people.hpp friend events)
  // published on chat:user:{user_id}: to that user's /user/queue/notifications subscribers
  // here; friend events also to the listener (the SSE stream).
  void on_user_event(std::int64_t user_id, std::string_view json);
  // A profile_updated_event JSON (proto people.hpp) published on chat:profile: every local
  // session of the user is told the new nickname.
  void on_profile(std::string_view json);
  // A presence_event JSON published on chat:presence.
  void on_presence(std::string_view json);
  // user:presence:{user_id} expired (its node died): OFFLINE.
  void on_presence_expired(std::int64_t user_id, std::int64_t at_ms);
  // A proto::block_change JSON published on chat:blocks: to the listener, and to the registered
  // sessions (add_user_session) of both users.
  void on_block_change(std::string_view json);
  // A proto::membership_revoked JSON published on chat:membership: to the registered sessions of
  // those users (fanout_target::membership_revoked).
  void on_membership_revoked(std::string_view json);

  // ---- introspection ----
  std::size_t local_channels() const;
  bool is_joined(const channel_key& key) const;
  std::size_t watched_users() const;
  std::size_t registered_users() const;
  std::uint64_t dropped_payloads() const noexcept { return dropped_.load(std::memory_order_relaxed); }

 private:
  using member_map = std::unordered_map<const fanout_target*, std::weak_ptr<fanout_target>>;

  struct channel_state {
    member_map members;
    bool armed = false;
    std::vector<std::weak_ptr<fanout_target>> waiting;  // joined while not armed
    // Room channels: the newest room events published while armed (at most replay_depth_);
    // emptied when the bus connection is lost.
    std::deque<std::shared_ptr<const fanout_event>> replay;
  };

  struct watch_state {
    member_map watchers;
    std::optional<proto::presence_status> last;  // last status delivered by this node
  };

  void publish(const channel_key& key, std::shared_ptr<const fanout_event> event);
  void on_read_event(std::int64_t room_id, std::string_view json);
  void deliver_presence(const proto::presence_event& event, std::string_view json);
  static std::vector<std::shared_ptr<fanout_target>> lock_all(const member_map& members);

  channel_control* control_ = nullptr;
  chatd::recent_messages* recent_ = nullptr;
  std::atomic<metrics::histogram*> received_latency_{nullptr};
  room_event_listener* listener_ = nullptr;
  std::size_t replay_depth_ = 0;
  mutable std::mutex mutex_;
  std::unordered_map<channel_key, channel_state, channel_key_hash> channels_;
  std::unordered_map<std::int64_t, watch_state> watches_;
  // add_user_session: user -> their connected sessions. A lock of its own: CONNECTs and closes
  // do not contend with the fan-out's.
  mutable std::mutex users_mutex_;
  std::unordered_map<std::int64_t, member_map> user_sessions_;
  std::atomic<std::uint64_t> next_event_{1};
  std::atomic<std::uint64_t> dropped_{0};
};

}  // namespace chat::gateway
