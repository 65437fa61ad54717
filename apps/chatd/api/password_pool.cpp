#include "api/password_pool.hpp"

#include <chat/log/log.hpp>

#include <algorithm>
#include <exception>

namespace chat::chatd::api {

password_pool::password_pool(int workers, std::size_t queue_limit)
    : workers_(std::max(1, workers)), queue_limit_(queue_limit) {}

password_pool::~password_pool() { stop(); }

void password_pool::start() {
  for (int i = 0; i < workers_; ++i) threads_.emplace_back([this] { run_worker(); });
}

void password_pool::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  cv_.notify_all();
  for (auto& t : threads_) {
    if (t.joinable()) t.join();
  }
  threads_.clear();
}

bool password_pool::submit(job j) {
  {
    std::lock_guard lock(mutex_);
    if (stopping_ || queue_.size() >= queue_limit_) return false;
    queue_.push_back(std::move(j));
  }
  cv_.notify_one();
  return true;
}

std::size_t password_pool::queued() const {
  std::lock_guard lock(mutex_);
  return queue_.size();
}

bool password_pool::full() const {
  std::lock_guard lock(mutex_);
  return stopping_ || queue_.size() >= queue_limit_;
}

void password_pool::run_worker() {
  for (;;) {
    job j;
    {
      std::unique_lock lock(mutex_);
      cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping and drained
      j = std::move(queue_.front());
      queue_.pop_front();
    }
    try {
      j();
    } catch (const std::exception& e) {
      log::error("password job threw", {{"error", e.what()}});
    } catch (...) {
      log::error("password job threw", {{"error", "unknown exception"}});
    }
  }
}

}  // namespace chat::chatd::api
