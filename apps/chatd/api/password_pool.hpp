#pragma once
// The threads that run Argon2 for signup and login, apart from the db_pool: hashing costs
// tens to hundreds of milliseconds of CPU and memory each, so a flood of unauthenticated
// logins must wait (or be shed) here without delaying the database work of authenticated
// requests and STOMP CONNECTs. The queue is bounded; a full queue refuses at once and the
// caller answers 503 + Retry-After (docs/rest.md).
//
// Hashing runs at the lowest CPU priority (Linux SCHED_IDLE, else nice 19): it gets the CPU
// that the I/O threads, the pipeline and the database work leave over, so a login flood
// slows the logins (queued, then shed with 503), not the chat beside it. In chatd each
// worker hands its hashes to a child process of its own (api/hasher_process.hpp: Argon2's
// memory mappings inside chatd stalled its I/O threads) and itself keeps normal priority;
// without a hasher executable (unit tests) the worker hashes itself, at that priority.
//
// Priority alone does not keep the chat's latency: on a 2-vCPU VM, idle-priority work that
// keeps every vCPU busy stalled normal work for seconds (docs/chatload.md). So each worker
// also keeps to a CPU share (--password-cpu-share): after a job it rests in proportion to the
// time the job spent hashing; the queue then fills and the excess is shed (503), as at any
// other bound.
//
// Refusals are paced (answer_later): a flood client that retries the moment it is refused
// would otherwise turn cheap 429s and 503s into thousands of requests per second on the I/O
// threads (measured: 5,900/s from 64 connections, the chat beside it refused 2/3 of its
// SENDs). Answered a second later, each connection sends about one request per second.
#include <chat/auth/password.hpp>
#include <chat/common/bounded_queue.hpp>

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace chat::chatd::api {

class password_pool {
 public:
  // Jobs must not throw (a throw is logged and swallowed as a last line of defence).
  using job = std::function<void()>;

  // `workers` >= 1 threads; at most `queue_limit` jobs waiting (not counting running ones).
  // `hasher_executable`: the chatd binary whose hasher children do the hashing ("" = the
  // workers hash themselves).
  // `cpu_share` (0, 1]: after each job a worker rests (1/cpu_share - 1) times as long as the
  // job hashed, so that a flood of logins keeps at most that share of a core per worker busy.
  password_pool(int workers, std::size_t queue_limit, std::string hasher_executable = {}, double cpu_share = 1.0);
  ~password_pool();
  password_pool(const password_pool&) = delete;
  password_pool& operator=(const password_pool&) = delete;

  void start();
  // Refuses new jobs, runs the ones already queued, then joins the workers; runs the answers
  // still delayed at once. Idempotent.
  void stop();

  // Runs `answer` (a refusal the client may retry at once: 429, 503) `delay` from now on
  // the pool's timer thread (normal priority; keep `answer` short: post to the connection).
  // At most `max_delayed` answers wait; beyond that, before start() or once stopping,
  // `answer` runs at once on the caller's thread. Thread-safe.
  void answer_later(std::chrono::milliseconds delay, job answer);
  static constexpr std::size_t max_delayed = 10000;
  // Answers waiting in answer_later() now. Any thread.
  std::size_t delayed() const;

  // Thread-safe. False when the queue is full or the pool stopped: nothing was queued.
  bool submit(job j);

  // Argon2 for a job: on a worker with a hasher child, computed there; otherwise (or when
  // the child cannot answer) on the calling thread. As auth::hash_password / verify_password.
  static std::optional<std::string> hash_password(std::string_view password, auth::password_cost cost);
  static bool verify_password(std::string_view stored_hash, std::string_view password);

  // Jobs waiting for a worker now. Any thread.
  std::size_t queued() const;
  // Whether submit() would refuse now (a hint: another thread may submit or take a job
  // right after). Any thread.
  bool full() const;

 private:
  void run_worker();
  void run_timer();

  const int workers_;
  const std::string hasher_executable_;
  const double cpu_share_;
  common::bounded_queue<job> queue_;
  std::vector<std::thread> threads_;

  using clock = std::chrono::steady_clock;
  mutable std::mutex timer_mutex_;
  std::condition_variable timer_cv_;
  std::multimap<clock::time_point, job> delayed_;  // by due time
  bool timer_running_ = false;
  std::thread timer_;
};

}  // namespace chat::chatd::api
