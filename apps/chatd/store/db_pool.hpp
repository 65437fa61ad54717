#pragma once
// A fixed pool of worker threads, each owning one PostgreSQL connection and one Redis
// connection. Blocking database and cache calls never run on the network I/O threads:
// callers submit a job and the job posts its result back to whatever executor the
// caller owns.
#include "redis/redis_client.hpp"
#include "store/session.hpp"

#include <chat/common/bounded_queue.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace chat::store {

// What a job gets: the worker's connections. `db` is nullptr when PostgreSQL cannot be
// reached right now (the job answers 503 or retries). `redis` reconnects by itself;
// its commands return nullopt while Redis is down.
struct db_context {
  session* db;
  redis::client& redis;
};

class db_pool {
 public:
  // Jobs must not throw (a throw is logged and swallowed as a last line of defence).
  using job = std::function<void(db_context&)>;

  db_pool(std::string pg_url, redis::endpoint redis_ep, int size, std::size_t queue_limit,
          std::chrono::milliseconds redis_timeout);
  ~db_pool();
  db_pool(const db_pool&) = delete;
  db_pool& operator=(const db_pool&) = delete;

  void start();
  // Finishes queued jobs, then joins the workers. Idempotent.
  void stop();

  // Thread-safe. False when the queue is full or the pool stopped: the caller sheds
  // the load (HTTP 503) instead of queueing without bound.
  bool submit(job j);

  std::size_t queued() const;

 private:
  void run_worker();

  const std::string url_;
  const redis::endpoint redis_ep_;
  const std::chrono::milliseconds redis_timeout_;
  const int size_;
  common::bounded_queue<job> queue_;
  std::vector<std::thread> workers_;
};

}  // namespace chat::store
