#pragma once
// Ports of the STOMP gateway core (docs/stomp.md): what a session needs from the rest of chatd.
// Adapters implement them over PostgreSQL (gateway/db_directory) and Redis
// (gateway_adapters/: presence_service, redis_subscriber) in the chatd::gateway_adapters
// target; the unit tests in tests/unit/chatd_gateway implement them with fakes. The core
// (chatd::gateway) links no database or Redis client. No vendor type appears here.
#include "core/event_rules.hpp"

#include <chat/proto/events.hpp>
#include <chat/proto/message.hpp>
#include <chat/proto/rest.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace chat::gateway {

using steady_clock = std::chrono::steady_clock;
using time_point = steady_clock::time_point;

// Time as the gateway sees it; injected so that tests control heart-beats and timeouts.
class clock_source {
 public:
  virtual ~clock_source() = default;
  virtual time_point now() const = 0;        // monotonic: deadlines, rate limits
  virtual std::int64_t unix_ms() const = 0;  // wall clock: createdAt, JWT expiry, "at"
};

class system_clock_source final : public clock_source {
 public:
  time_point now() const override { return steady_clock::now(); }
  std::int64_t unix_ms() const override {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
  }
};

enum class lookup_status {
  found,        // nickname found / is a member / contacts loaded
  not_found,    // no such user / not a member (or no such room)
  unavailable,  // the database cannot answer right now
};

struct fanout_event;

// What a membership answer tells besides membership (docs/stomp.md "Blocks"): a DIRECT room's
// other member and whether the two are a blocked pair (either blocks the other). Cached with the
// membership; a block change of the pair on any node updates it (session::on_block_change).
struct room_gate {
  std::int64_t direct_peer = 0;  // DIRECT: the other member; 0: a group room
  bool blocked = false;          // DIRECT: SENDs that add to the room are refused (403 blocked)

  friend bool operator==(const room_gate&, const room_gate&) = default;
};

// CONNECT's lookup (directory::connecting_user).
struct connecting_user_info {
  std::string nickname;
  struct member_room {
    std::int64_t room_id = 0;
    room_gate gate;
  };
  std::vector<member_room> rooms;    // ascending, at most directory::max_connect_rooms
  std::vector<std::int64_t> blocks;  // the users this user blocks, ascending (the fan-out filter)
};

// The room feed's load (directory::room_list): the rows of GET /api/rooms and whom the user blocks.
struct room_list_page {
  std::vector<proto::room_summary> rooms;
  std::vector<std::int64_t> blocks;  // ascending, at most proto::max_blocks_per_user
};

// Recovery (docs/stomp.md "Recovery"): what the store has of a room after an id.
struct recovery_page {
  // The store had caught up with the asked position: `events` is the answer. Otherwise ask
  // again later.
  bool ready = false;
  bool truncated = false;  // more than the limit followed the id: `events` are the newest
  // Oldest first, each exactly as live delivery renders it (make_room_event).
  std::vector<std::shared_ptr<const fanout_event>> events;
};

// Lookups that need the database. Every call completes exactly once, on any thread (a
// database worker, or the caller's thread when the work cannot even be queued): callers
// post the result back to their own strand. Never blocks the caller.
class directory {
 public:
  virtual ~directory() = default;
  virtual void nickname(std::int64_t user_id, std::function<void(lookup_status, std::string)> done) = 0;
  // CONNECT: the nickname, the rooms the user is a member of now (at most max_connect_rooms of
  // them) and the users they block (at most proto::max_blocks_per_user), in one database job: a
  // reconnecting client's SUBSCRIBEs then need no lookup each. The default asks nickname() and
  // knows no rooms and no blocks.
  static constexpr std::size_t max_connect_rooms = 1000;
  virtual void connecting_user(std::int64_t user_id, std::function<void(lookup_status, connecting_user_info)> done) {
    nickname(user_id, [done = std::move(done)](lookup_status status, std::string nick) {
      connecting_user_info info;
      info.nickname = std::move(nick);
      done(status, std::move(info));
    });
  }
  // found (with the room's gate) / not_found (not a member, or no such room) / unavailable.
  virtual void membership(std::int64_t room_id, std::int64_t user_id,
                          std::function<void(lookup_status, room_gate)> done) = 0;
  // Users who share at least one room with `user_id`.
  virtual void contacts(std::int64_t user_id, std::function<void(lookup_status, std::vector<std::int64_t>)> done) = 0;

  // What a room event by `user_id` in `room_id` on message `target_id` (0: none) is checked
  // against (chatd::check_room_event): found with the context (which says whether the room
  // exists, the user is a member, the target is a message of the room), or unavailable. A
  // target not stored yet is waited for briefly (store/targets.hpp).
  virtual void event_context(std::int64_t room_id, std::int64_t user_id, std::int64_t target_id,
                             std::function<void(lookup_status, chatd::target_context)> done) = 0;
  // The upload `file_id` (an /api/files/{id} attachment, docs/rest.md "Files") as `user_id` may
  // attach it: found with its name, size, mimeType, width, height (url left empty); not_found when
  // there is no such file or the user may not read it.
  virtual void attachable_file(std::string file_id, std::int64_t user_id,
                               std::function<void(lookup_status, proto::file_attachment)> done) = 0;
  // Delete-for-me: hides message `message_id` of `room_id` from `user_id` and tells that user's
  // sessions on every node (/user/queue/notifications). found = hidden (now or before). The
  // caller has checked membership and the target (event_context).
  virtual void hide_message(std::int64_t user_id, std::int64_t room_id, std::int64_t message_id,
                            std::function<void(lookup_status)> done) = 0;
  // Recovery: the room events of `room_id` with id > `after_id` (store/recovery.hpp: messages
  // `user_id` did not hide, and the other room events), at most `limit`, once the persistence
  // consumer's progress in chat.messages' `partition` reached `stored_through` (0: now). found:
  // the page (not ready while the store is behind); unavailable: the database cannot answer.
  // The caller checked membership. One query; never waits for the store.
  virtual void recovery(std::int64_t room_id, std::int64_t user_id, std::int64_t after_id, std::int32_t partition,
                        std::int64_t stored_through, int limit,
                        std::function<void(lookup_status, recovery_page)> done) = 0;
  // The room feed (room_feed.hpp): the user's rooms as GET /api/rooms lists them and the users
  // they block (one database job). The defaults answer unavailable (directories without a store).
  virtual void room_list(std::int64_t /*user_id*/, std::function<void(lookup_status, room_list_page)> done) {
    done(lookup_status::unavailable, {});
  }
  // One room of that list; not_found when the user is not a member (any more).
  virtual void room_summary(std::int64_t /*user_id*/, std::int64_t /*room_id*/,
                            std::function<void(lookup_status, std::optional<proto::room_summary>)> done) {
    done(lookup_status::unavailable, std::nullopt);
  }
};

// Presence bookkeeping (docs/stomp.md "Presence"): told when a user's session on this node opens
// and closes. Thread-safe, never blocks.
class presence_sink {
 public:
  virtual ~presence_sink() = default;
  virtual void session_opened(std::int64_t user_id) = 0;
  virtual void session_closed(std::int64_t user_id) = 0;
};

// Relays a typing notice to every node (Redis channel chat:typing:{roomId}). Thread-safe,
// never blocks; best effort (dropped when Redis is down).
class typing_sink {
 public:
  virtual ~typing_sink() = default;
  virtual void publish_typing(const proto::typing_event& event) = 0;
};

// The fan-out bus subscription, driven by fanout_hub: the channels this node must receive.
// Thread-safe, never blocks. The hub calls it in the order its own state changed.
class channel_control {
 public:
  virtual ~channel_control() = default;
  virtual void subscribe(const std::string& channel) = 0;
  virtual void unsubscribe(const std::string& channel) = 0;
};

class fanout_hub;

// A node's outside services as one unit: the ports above over real databases, with the
// threads behind them. The gateway builds them once around its own hub and clock (the bus
// subscriber feeds that hub and the hub drives bus()), and owns them.
class node_services {
 public:
  virtual ~node_services() = default;
  virtual directory& dir() = 0;
  virtual presence_sink& presence() = 0;
  virtual typing_sink& typing() = 0;
  virtual channel_control& bus() = 0;
  // Starts their threads (gateway::start()).
  virtual void start() = 0;
  // Stops the bus subscription, then presence (which withdraws this node from Redis).
  // Idempotent; the destructor does it too.
  virtual void stop() = 0;
};

using node_services_factory = std::function<std::unique_ptr<node_services>(fanout_hub& hub, const clock_source& clock)>;

}  // namespace chat::gateway
