#include "api/password_pool.hpp"

#include "api/hasher_process.hpp"

#include <chat/log/log.hpp>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <exception>
#include <string>

#include <pthread.h>
#include <sched.h>
#include <sys/resource.h>
#include <unistd.h>

namespace chat::chatd::api {
namespace {

// The calling thread yields the CPU to every thread of normal priority: SCHED_IDLE (which
// any thread may choose for itself), else nice 19 for this thread alone (Linux applies
// setpriority to a thread id). At normal priority one worker hashing back to back at the
// interactive cost keeps a whole core of a 2-core node busy, beside the I/O threads.
void lower_own_cpu_priority() {
  sched_param param{};
  param.sched_priority = 0;
  const int idle = pthread_setschedparam(pthread_self(), SCHED_IDLE, &param);
  if (idle == 0) return;
  if (setpriority(PRIO_PROCESS, static_cast<id_t>(gettid()), 19) == 0) return;
  log::warn("password worker keeps normal CPU priority", {{"sched_idle_error", std::string(std::strerror(idle))},
                                                          {"nice_error", std::string(std::strerror(errno))}});
}

// Jobs and answers must not throw; a throw is logged and swallowed as a last line of defence.
void run_guarded(password_pool::job& j) noexcept {
  try {
    j();
  } catch (const std::exception& e) {
    log::error("password job threw", {{"error", e.what()}});
  } catch (...) {
    log::error("password job threw", {{"error", "unknown exception"}});
  }
}

// The hasher child of the worker running on this thread (none elsewhere).
thread_local hasher_process* worker_hasher = nullptr;
// Time this thread spent hashing since the worker last looked (the CPU share's measure).
thread_local std::chrono::steady_clock::duration hashing_time{};

// Adds the time of its scope to hashing_time.
struct hashing_timer {
  std::chrono::steady_clock::time_point start = std::chrono::steady_clock::now();
  ~hashing_timer() { hashing_time += std::chrono::steady_clock::now() - start; }
};

}  // namespace

password_pool::password_pool(int workers, std::size_t queue_limit, std::string hasher_executable, double cpu_share)
    : workers_(std::max(1, workers)),
      hasher_executable_(std::move(hasher_executable)),
      cpu_share_(std::clamp(cpu_share, 0.01, 1.0)),
      queue_(queue_limit) {}

std::optional<std::string> password_pool::hash_password(std::string_view password, auth::password_cost cost) {
  const hashing_timer timed;
  if (worker_hasher != nullptr) {
    if (auto answered = worker_hasher->hash(password, cost)) return std::move(*answered);
  }
  return auth::hash_password(password, cost);
}

bool password_pool::verify_password(std::string_view stored_hash, std::string_view password) {
  const hashing_timer timed;
  if (worker_hasher != nullptr) {
    if (auto answered = worker_hasher->verify(stored_hash, password)) return *answered;
  }
  return auth::verify_password(stored_hash, password);
}

password_pool::~password_pool() { stop(); }

void password_pool::start() {
  for (int i = 0; i < workers_; ++i) threads_.emplace_back([this] { run_worker(); });
  {
    std::lock_guard lock(timer_mutex_);
    timer_running_ = true;
  }
  timer_ = std::thread([this] { run_timer(); });
}

void password_pool::stop() {
  queue_.close();
  for (auto& t : threads_) {
    if (t.joinable()) t.join();
  }
  threads_.clear();
  {
    std::lock_guard lock(timer_mutex_);
    timer_running_ = false;
  }
  timer_cv_.notify_all();
  if (timer_.joinable()) timer_.join();
}

void password_pool::answer_later(std::chrono::milliseconds delay, job answer) {
  {
    std::lock_guard lock(timer_mutex_);
    if (timer_running_ && delayed_.size() < max_delayed) {
      const auto due = clock::now() + delay;
      const bool earliest = delayed_.empty() || due < delayed_.begin()->first;
      delayed_.emplace(due, std::move(answer));
      if (earliest) timer_cv_.notify_one();
      return;
    }
  }
  run_guarded(answer);
}

std::size_t password_pool::delayed() const {
  std::lock_guard lock(timer_mutex_);
  return delayed_.size();
}

void password_pool::run_timer() {
  std::unique_lock lock(timer_mutex_);
  for (;;) {
    if (!timer_running_) break;
    if (delayed_.empty()) {
      timer_cv_.wait(lock);
      continue;
    }
    const auto due = delayed_.begin()->first;
    if (clock::now() < due) {
      timer_cv_.wait_until(lock, due);
      continue;
    }
    job answer = std::move(delayed_.begin()->second);
    delayed_.erase(delayed_.begin());
    lock.unlock();
    run_guarded(answer);
    lock.lock();
  }
  // Stopping: whatever still waits is answered now.
  auto rest = std::move(delayed_);
  delayed_.clear();
  lock.unlock();
  for (auto& [due, answer] : rest) run_guarded(answer);
}

bool password_pool::submit(job j) { return queue_.push(std::move(j)); }

std::size_t password_pool::queued() const { return queue_.size(); }

bool password_pool::full() const { return queue_.full(); }

void password_pool::run_worker() {
  std::optional<hasher_process> hasher;
  if (hasher_executable_.empty()) {
    lower_own_cpu_priority();
  } else {
    // At normal priority: this thread only waits for its child, and never holds a lock of
    // chatd's at idle priority.
    hasher.emplace(hasher_executable_);
    worker_hasher = &*hasher;
  }
  const double rest_per_hash = 1.0 / cpu_share_ - 1.0;
  while (auto j = queue_.pop()) {  // nullopt: stopping and drained
    hashing_time = {};
    run_guarded(*j);
    if (rest_per_hash > 0 && hashing_time.count() > 0 && !queue_.closed()) {
      std::this_thread::sleep_for(
          std::chrono::duration_cast<std::chrono::steady_clock::duration>(hashing_time * rest_per_hash));
    }
  }
  worker_hasher = nullptr;
}

}  // namespace chat::chatd::api
