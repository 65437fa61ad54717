#pragma once
// Presence (docs/stomp.md, docs/topics.md) and the typing relay: the gateway's Redis writer, one thread.
//
// A user is ONLINE while at least one of their sessions is open on any node:
//   user:presence:{id}   HASH  field = node id, value = that node's open sessions of the user
//                         TTL = --presence-ttl, re-armed every --presence-refresh
//   chat:presence:node:{node}   STRING with the same TTL: "this node is alive"
// Changes run as Lua scripts, so two nodes cannot interleave their read-modify-write:
//   - a node's count for a user goes 0 -> n: HSET + EXPIRE; the key did not exist before
//     -> PUBLISH ONLINE on chat:presence;
//   - n -> 0: HDEL (fields of nodes whose alive key is gone are pruned too); the hash is
//     empty -> DEL + PUBLISH OFFLINE.
// A node that dies stops refreshing: its users' keys expire within the TTL, and every
// node turns Redis's expired keyspace event into OFFLINE for its local subscribers
// (redis_subscriber -> fanout_hub::on_presence_expired), delivered once per node.
// The refresh writes this node's counts again (HSET, not HINCRBY), so a Redis restart or
// a key expired by mistake heals within one refresh, with an ONLINE event.
//
// Last seen (docs/rest.md "Profiles"): the node whose script took a user's hash to empty
// (their last session on any node closed, or this node withdrew at shutdown) reports the user
// offline (on_offline); after a crash, the expired-key event reaches every node and the one
// that claims the user (SET NX on the claim key, only while the presence key is still gone)
// reports it, at the time it saw the expiry (at most --presence-ttl after the crash).
//
// Typing notices (docs/stomp.md "Typing") are published only if no node published one for
// the same user and room within --typing-interval: SET {typing_throttle_prefix}{user}:{room}
// NX PX interval, then PUBLISH, in one script. The registry's per-node throttle filters
// first; this holds across nodes.
//
// Session opens and closes are queued and applied in batches on the worker thread (a
// connect storm costs one script per user, not per session); nothing here blocks the
// caller. While Redis is down the worker keeps its counts and retries.
#include "gateway/ports.hpp"
#include "redis/redis_client.hpp"

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace chat::gateway {

inline constexpr std::string_view node_alive_key_prefix = "chat:presence:node:";

struct presence_options {
  std::string node_id;
  std::chrono::seconds ttl{60};
  std::chrono::seconds refresh{20};
  std::size_t max_queued_publishes = 10000;  // typing notices waiting for Redis; more are dropped
  std::size_t refresh_batch = 500;           // users per refresh script
  // Cross-node typing throttle ("chat:typing:throttle:{scope}:"); empty: none.
  std::string typing_throttle_prefix;
  // lastSeenAt after a node crash: the node that claims "{prefix}{user}" (SET NX, for half
  // the TTL) reports the expired user offline ("chat:presence:seen:{scope}:"); empty: expiries
  // report nothing.
  std::string last_seen_claim_prefix;
  std::chrono::milliseconds typing_interval{1000};
};

class presence_service final : public presence_sink, public typing_sink {
 public:
  presence_service(redis::endpoint ep, std::chrono::milliseconds redis_timeout, presence_options options,
                   const clock_source& clock);
  ~presence_service() override;
  presence_service(const presence_service&) = delete;
  presence_service& operator=(const presence_service&) = delete;

  // Called on the worker thread with (user, unix ms) when the user's last session on any
  // node is gone (see above); must not block. Set before start(); may stay empty.
  void on_offline(std::function<void(std::int64_t user_id, std::int64_t at_ms)> hook) { on_offline_ = std::move(hook); }
  // Called on the worker thread after each pass (at least every --presence-refresh, every
  // second while Redis fails); must not block. Set before start(); may stay empty.
  void on_pass(std::function<void()> hook) { on_pass_ = std::move(hook); }

  void start();
  // Applies what is queued, withdraws this node from every user it still counts (OFFLINE
  // where it was the last one), then joins the thread. Gives up on Redis errors (the keys
  // then expire by TTL). Idempotent.
  void stop();

  // presence_sink, typing_sink: any thread, never block.
  void session_opened(std::int64_t user_id) override;
  void session_closed(std::int64_t user_id) override;
  void publish_typing(const proto::typing_event& event) override;

  // user:presence:{id} expired in Redis (seen by the subscriber thread). If this node
  // still has sessions of the user, it writes the key again (ONLINE).
  void on_key_expired(std::int64_t user_id);

  // Users with at least one session on this node (worker's view; for tests and metrics).
  std::size_t local_users() const;

 private:
  struct publish_op {
    std::string channel;
    std::string payload;
    std::string throttle_key;  // empty: publish unconditionally
  };

  void run();
  std::string presence_json(std::int64_t user_id, proto::presence_status status) const;

  const redis::endpoint endpoint_;
  const std::chrono::milliseconds redis_timeout_;
  const presence_options options_;
  const std::string alive_key_;
  const clock_source& clock_;
  std::function<void(std::int64_t, std::int64_t)> on_offline_;
  std::function<void()> on_pass_;

  mutable std::mutex mutex_;
  std::condition_variable cv_;
  std::unordered_map<std::int64_t, int> delta_;  // queued session changes per user
  std::unordered_set<std::int64_t> expired_;
  std::deque<publish_op> publishes_;
  bool stopping_ = false;
  std::size_t local_users_ = 0;  // published by the worker for local_users()

  // worker thread only
  std::unordered_map<std::int64_t, int> counts_;  // this node's sessions per user
  std::unordered_set<std::int64_t> dirty_;        // counts Redis has not seen yet
  std::thread worker_;
};

}  // namespace chat::gateway
