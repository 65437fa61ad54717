#include "store/db_pool.hpp"

#include <chat/log/log.hpp>

#include <poll.h>

#include <chrono>

namespace chat::store {

namespace {

// Whether the server has hung up on an idle connection. Between jobs nothing is in flight,
// so anything readable on the socket is the server speaking unasked: in practice the FATAL
// of a shutdown or restart ("terminating connection due to administrator command"), or
// EOF. libpq still calls such a connection open until a query fails on it, which would
// turn the first job of every worker after a database restart into an error (a 503, a
// STOMP CONNECT refused as "service unavailable") although the database is back.
bool server_hung_up(const pqxx::connection& conn) noexcept {
  const int fd = conn.sock();
  if (fd < 0) return true;
  pollfd p{};
  p.fd = fd;
  p.events = POLLIN;
  return ::poll(&p, 1, 0) != 0;  // readable, hung up, error (or poll itself failed)
}

}  // namespace

std::unique_ptr<pqxx::connection> connect(const std::string& url, int connect_timeout_s) {
  std::string conninfo = url;
  if (conninfo.find("connect_timeout=") == std::string::npos) {
    conninfo += (conninfo.find('?') == std::string::npos ? "?" : "&");
    conninfo += "connect_timeout=" + std::to_string(connect_timeout_s);
  }
  return std::make_unique<pqxx::connection>(conninfo);
}

db_pool::db_pool(std::string pg_url, redis::endpoint redis_ep, int size, std::size_t queue_limit,
                 std::chrono::milliseconds redis_timeout)
    : url_(std::move(pg_url)),
      redis_ep_(std::move(redis_ep)),
      redis_timeout_(redis_timeout),
      size_(size),
      queue_limit_(queue_limit) {}

db_pool::~db_pool() { stop(); }

void db_pool::start() {
  for (int i = 0; i < size_; ++i) workers_.emplace_back([this] { run_worker(); });
}

void db_pool::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  cv_.notify_all();
  for (auto& t : workers_) {
    if (t.joinable()) t.join();
  }
  workers_.clear();
}

bool db_pool::submit(job j) {
  {
    std::lock_guard lock(mutex_);
    if (stopping_ || queue_.size() >= queue_limit_) return false;
    queue_.push_back(std::move(j));
  }
  cv_.notify_one();
  return true;
}

std::size_t db_pool::queued() const {
  std::lock_guard lock(mutex_);
  return queue_.size();
}

void db_pool::run_worker() {
  std::unique_ptr<pqxx::connection> conn;
  redis::client redis_conn(redis_ep_, redis_timeout_);
  auto last_attempt = std::chrono::steady_clock::time_point{};
  for (;;) {
    job j;
    {
      std::unique_lock lock(mutex_);
      cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping and drained
      j = std::move(queue_.front());
      queue_.pop_front();
    }
    if (conn && (!conn->is_open() || server_hung_up(*conn))) conn.reset();
    if (!conn) {
      // At most one connection attempt per worker every 500 ms while the database is
      // down, so a dead database fails jobs fast instead of stalling each for a timeout.
      const auto now = std::chrono::steady_clock::now();
      if (now - last_attempt >= std::chrono::milliseconds(500)) {
        last_attempt = now;
        try {
          conn = connect(url_, 2);
        } catch (const std::exception& e) {
          log::warn("postgres connect failed", {{"error", e.what()}});
        }
      }
    }
    try {
      db_context ctx{conn.get(), redis_conn};
      j(ctx);
    } catch (const std::exception& e) {
      // Jobs are meant to catch their own errors; this is the last line of defence.
      log::error("database job threw", {{"error", e.what()}});
    }
    if (conn && !conn->is_open()) conn.reset();
  }
}

}  // namespace chat::store
