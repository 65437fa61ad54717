#pragma once
// Feeds the node's revocation cache (tokens/revocations.hpp) and ends the live connections of
// revoked tokens (tokens/live_tokens.hpp), on one thread of its own (docs/topics.md "Token
// revocations", docs/operations.md "Redis down: tokens"):
//
// - Subscribed to chat:token-revocations on a Redis connection of its own: each revocation
//   made on any node arrives within milliseconds, is added to the cache and ends the user's
//   revoked sessions and streams at once.
// - On each (re)subscription, and every sync_interval after that, it loads the whole set
//   chat:revoked-tokens (what was published while it was not listening: the safety net), and
//   on each (re)subscription also what PostgreSQL recorded (revocations made while Redis was
//   down), which it writes back to the set. Every sync also sweeps all live tokens.
// - The cache is complete (revocation_cache::complete) only while subscribed and the last load
//   succeeded. While Redis is down it is not: REST checks each token in PostgreSQL (fail
//   closed), and this thread loads PostgreSQL's new revocations every sync_interval instead,
//   so that STOMP CONNECTs and live sessions see them within that interval.
// - Every cleanup_interval it deletes expired refresh tokens and revocations from PostgreSQL.
#include "redis/redis_client.hpp"
#include "store/db_pool.hpp"
#include "tokens/live_tokens.hpp"
#include "tokens/revocations.hpp"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>

namespace chat::chatd::token_adapters {

struct revocation_feed_options {
  std::chrono::milliseconds sync_interval{2000};
  std::chrono::milliseconds cleanup_interval{600000};
  std::chrono::seconds jwt_ttl{3600};
  std::chrono::milliseconds redis_timeout{2000};
};

// Where the feed reports; each may be empty. Called from the feed thread.
struct revocation_feed_observers {
  std::function<void(std::size_t)> disconnected;  // live connections ended by a revocation
  std::function<void(bool)> live;                 // the cache became complete (true) or not
};

class revocation_feed {
 public:
  // `cache`, `live` and `pool` must outlive this object.
  revocation_feed(redis::endpoint ep, revocation_feed_options options, tokens::revocation_cache& cache,
                  tokens::live_tokens& live, store::db_pool& pool, revocation_feed_observers observers = {});
  ~revocation_feed();
  revocation_feed(const revocation_feed&) = delete;
  revocation_feed& operator=(const revocation_feed&) = delete;

  void start();
  void stop();  // idempotent; before the pool stops

 private:
  struct connection;
  void run();
  // One subscribed connection, until it fails or stop().
  void serve(connection& c);
  // Loads the set (and, when `backfill`, PostgreSQL's record) into the cache; false when Redis
  // could not be asked.
  bool load_from_redis(bool backfill);
  // PostgreSQL's revocations since the last such load (all when `full`); false when it failed.
  bool load_from_store(bool full);
  void absorb(const std::vector<tokens::revocation>& found);
  void maybe_cleanup();
  void set_live(bool live);
  void wait(std::chrono::milliseconds d);
  std::int64_t now_s() const;

  const redis::endpoint endpoint_;
  const revocation_feed_options options_;
  tokens::revocation_cache& cache_;
  tokens::live_tokens& live_;
  store::db_pool& pool_;
  const revocation_feed_observers observers_;
  redis::client redis_;  // the feed thread's command connection (loads)

  std::int64_t store_synced_s_ = 0;  // feed thread: PostgreSQL loaded up to here
  std::chrono::steady_clock::time_point next_cleanup_{};
  bool live_state_ = false;  // feed thread

  std::mutex mutex_;
  std::condition_variable wake_;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

}  // namespace chat::chatd::token_adapters
