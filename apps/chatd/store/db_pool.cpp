#include "store/db_pool.hpp"

#include "store/connection.hpp"

#include <chat/log/log.hpp>

#include <chrono>

namespace chat::store {

db_pool::db_pool(std::string pg_url, redis::endpoint redis_ep, int size, std::size_t queue_limit,
                 std::chrono::milliseconds redis_timeout)
    : url_(std::move(pg_url)),
      redis_ep_(std::move(redis_ep)),
      redis_timeout_(redis_timeout),
      size_(size),
      queue_(queue_limit) {}

db_pool::~db_pool() { stop(); }

void db_pool::start() {
  for (int i = 0; i < size_; ++i) workers_.emplace_back([this] { run_worker(); });
}

void db_pool::stop() {
  queue_.close();
  for (auto& t : workers_) {
    if (t.joinable()) t.join();
  }
  workers_.clear();
}

bool db_pool::submit(job j) { return queue_.push(std::move(j)); }

std::size_t db_pool::queued() const { return queue_.size(); }

void db_pool::run_worker() {
  connection pg(url_, 2);
  redis::client redis_conn(redis_ep_, redis_timeout_);
  auto last_attempt = std::chrono::steady_clock::time_point{};
  while (auto j = queue_.pop()) {  // nullopt: stopping and drained
    pg.drop_if_server_hung_up();
    if (pg.current() == nullptr) {
      // At most one connection attempt per worker every 500 ms while the database is
      // down, so a dead database fails jobs fast instead of stalling each for a timeout.
      const auto now = std::chrono::steady_clock::now();
      if (now - last_attempt >= std::chrono::milliseconds(500)) {
        last_attempt = now;
        std::string error;
        if (pg.get(error) == nullptr) log::warn("postgres connect failed", {{"error", error}});
      }
    }
    try {
      db_context ctx{pg.current(), redis_conn};
      (*j)(ctx);
    } catch (const std::exception& e) {
      // Jobs are meant to return their errors; this is the last line of defence.
      log::error("database job threw", {{"error", e.what()}});
    }
  }
}

}  // namespace chat::store
