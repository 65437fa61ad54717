#pragma once
// shared_limits over Redis (docs/stomp.md "Limits across nodes"): the per-user limits of every node of a
// cluster in one place, synced in batches on one worker thread.
//
//   chat:limit:{scope}:send:{user}       HASH s (SEND tokens), h (disconnect tokens), t (ms,
//                                        Redis TIME): the user's cluster-wide token buckets;
//                                        a missing key is a full bucket, so it expires once
//                                        full again
//   chat:limit:{scope}:sessions:{user}   HASH field = node id, value = that node's sessions of
//                                        the user; TTL --presence-ttl; fields of nodes whose
//                                        alive key (chat:presence:node:{node}) is gone are
//                                        dropped
//   chat:limit:{scope}:wake:{node}       SET of users who just got a session on another node
//                                        too: the node syncs them next (it syncs a user
//                                        only when something changed here, or while the
//                                        user is known to be on several nodes)
// {scope} is the cluster's database name: nodes that share a Redis but not a database do
// not share limits. One script per sync (per 500 users) applies this node's usage, writes
// its session counts and returns every user's state, so the hot path never waits for Redis.
// Every sync interval (and at once when a CONNECT asks, prefetch) the worker syncs; every
// --presence-refresh it includes every user with a session here, so live counts do not
// expire. When Redis cannot be reached the registry limits per node; the worker keeps
// trying each interval, logs the loss and the recovery once each, and keeps the gauge
// chat_limits_shared_available at 0 meanwhile.
#include "gateway/shared_limits.hpp"
#include "redis/redis_client.hpp"

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace chat::metrics {
class gauge;
}

namespace chat::gateway {

struct redis_limits_options {
  std::string node_id;
  std::string scope;                          // key namespace: the cluster's database name
  std::chrono::milliseconds interval{50};     // how often (the error bound of the limits)
  std::chrono::seconds sessions_ttl{60};      // --presence-ttl
  std::chrono::seconds sessions_refresh{20};  // --presence-refresh
  std::size_t batch = 500;                    // users per script
  std::size_t max_prefetches = 10000;         // waiting CONNECTs; more complete without a sync
  std::size_t max_woken = 10000;              // wake-set entries taken per sync
};

class redis_limits final : public shared_limits {
 public:
  // `available` (may be null) is set to 1 while syncs succeed, else 0; it must outlive this.
  redis_limits(redis::endpoint ep, std::chrono::milliseconds redis_timeout, redis_limits_options options,
               metrics::gauge* available);
  ~redis_limits() override;
  redis_limits(const redis_limits&) = delete;
  redis_limits& operator=(const redis_limits&) = delete;

  // shared_limits: attach starts the worker thread, detach joins it.
  void attach(limits_participant& p) override;
  void detach() override;

  // Syncs `user` now (a CONNECT is about to ask open_session), then calls `done` on the
  // worker thread. Calls it at once, on the caller's thread, when no sync is possible now
  // (detached, Redis unreachable at the last attempt, too many waiting). Any thread, never
  // blocks.
  void prefetch(std::int64_t user_id, std::function<void()> done);

 private:
  struct prefetch_op {
    std::int64_t user_id;
    std::function<void()> done;
  };

  void run();
  // One script per options_.batch users; nullopt (and why in `error`) when one fails.
  std::optional<std::vector<limits_state>> sync(redis::client& redis, const limits_batch& batch, std::string& error);
  // Adds the users other nodes asked this one to follow (chat:limit:{scope}:wake:{node});
  // false (and why in `error`) when Redis cannot be reached.
  bool pop_wake_set(redis::client& redis, std::vector<std::int64_t>& users, std::string& error);
  std::string key_prefix() const;
  void set_available(bool available);

  const redis::endpoint endpoint_;
  const std::chrono::milliseconds redis_timeout_;
  const redis_limits_options options_;
  metrics::gauge* const available_gauge_;

  std::mutex mutex_;
  std::condition_variable cv_;
  limits_participant* participant_ = nullptr;
  bool stopping_ = false;
  bool reachable_ = true;  // the last sync reached Redis (prefetch waits only then)
  std::vector<prefetch_op> prefetches_;
  std::thread worker_;
};

}  // namespace chat::gateway
