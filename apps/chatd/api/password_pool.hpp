#pragma once
// The threads that run Argon2 for signup and login, apart from the db_pool: hashing costs
// tens to hundreds of milliseconds of CPU and memory each, so a flood of unauthenticated
// logins must wait (or be shed) here without delaying the database work of authenticated
// requests and STOMP CONNECTs. The queue is bounded; a full queue refuses at once and the
// caller answers 503 + Retry-After (docs/rest.md).
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace chat::chatd::api {

class password_pool {
 public:
  // Jobs must not throw (a throw is logged and swallowed as a last line of defence).
  using job = std::function<void()>;

  // `workers` >= 1 threads; at most `queue_limit` jobs waiting (not counting running ones).
  password_pool(int workers, std::size_t queue_limit);
  ~password_pool();
  password_pool(const password_pool&) = delete;
  password_pool& operator=(const password_pool&) = delete;

  void start();
  // Refuses new jobs, runs the ones already queued, then joins the workers. Idempotent.
  void stop();

  // Thread-safe. False when the queue is full or the pool stopped: nothing was queued.
  bool submit(job j);

  // Jobs waiting for a worker now. Any thread.
  std::size_t queued() const;
  // Whether submit() would refuse now (a hint: another thread may submit or take a job
  // right after). Any thread.
  bool full() const;

 private:
  void run_worker();

  const int workers_;
  const std::size_t queue_limit_;
  mutable std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<job> queue_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace chat::chatd::api
