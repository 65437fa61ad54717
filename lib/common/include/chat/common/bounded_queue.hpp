#pragma once
// A bounded FIFO of jobs for the threads of a fixed worker pool (chatd's store::db_pool and
// api::password_pool). push() refuses at once when the queue is full or closed, so a caller
// under overload sheds the work (HTTP 503) instead of queueing without bound; pop() blocks
// until a job arrives, or returns nullopt once the queue is closed and drained, which ends
// a worker. Thread-safe.
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <mutex>
#include <optional>
#include <utility>

namespace chat::common {

template <class Job>
class bounded_queue {
 public:
  // At most `limit` jobs waiting (jobs a worker took do not count).
  explicit bounded_queue(std::size_t limit) : limit_(limit) {}
  bounded_queue(const bounded_queue&) = delete;
  bounded_queue& operator=(const bounded_queue&) = delete;

  // False when full or closed: nothing was queued (`job` is left as it was).
  bool push(Job&& job) {
    {
      std::lock_guard lock(mutex_);
      if (closed_ || queue_.size() >= limit_) return false;
      queue_.push_back(std::move(job));
    }
    cv_.notify_one();
    return true;
  }

  // The oldest job; blocks while the queue is empty and open. nullopt: closed and drained.
  std::optional<Job> pop() {
    std::unique_lock lock(mutex_);
    cv_.wait(lock, [this] { return closed_ || !queue_.empty(); });
    if (queue_.empty()) return std::nullopt;
    std::optional<Job> job(std::move(queue_.front()));
    queue_.pop_front();
    return job;
  }

  // Refuses further pushes and wakes every pop(); queued jobs are still handed out.
  // Idempotent.
  void close() {
    {
      std::lock_guard lock(mutex_);
      closed_ = true;
    }
    cv_.notify_all();
  }

  std::size_t size() const {
    std::lock_guard lock(mutex_);
    return queue_.size();
  }

  // Whether close() was called.
  bool closed() const {
    std::lock_guard lock(mutex_);
    return closed_;
  }

  // Whether push() would refuse now (a hint: other threads push and pop meanwhile).
  bool full() const {
    std::lock_guard lock(mutex_);
    return closed_ || queue_.size() >= limit_;
  }

 private:
  const std::size_t limit_;
  mutable std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<Job> queue_;
  bool closed_ = false;
};

}  // namespace chat::common
