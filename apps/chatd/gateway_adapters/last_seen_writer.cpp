#include "gateway_adapters/last_seen_writer.hpp"

#include "store/people.hpp"

#include <chat/log/log.hpp>

#include <algorithm>
#include <mutex>
#include <utility>
#include <vector>

namespace chat::gateway {

struct last_seen_writer::state {
  state(store::db_pool& p, std::size_t max) : pool(p), max_pending(max) {}
  store::db_pool& pool;
  const std::size_t max_pending;
  mutable std::mutex mutex;
  std::unordered_map<std::int64_t, std::int64_t> pending;  // user -> latest ms
  bool in_flight = false;
  bool overflow_logged = false;

  // mutex held
  void put_back(const std::unordered_map<std::int64_t, std::int64_t>& batch) {
    for (const auto& [user, ms] : batch) {
      auto& slot = pending[user];
      slot = std::max(slot, ms);
    }
  }
};

last_seen_writer::last_seen_writer(store::db_pool& pool, std::size_t max_pending)
    : state_(std::make_shared<state>(pool, max_pending)) {}

void last_seen_writer::record(std::int64_t user_id, std::int64_t at_ms) {
  {
    std::lock_guard lock(state_->mutex);
    auto& pending = state_->pending;
    if (const auto it = pending.find(user_id); it != pending.end()) {
      it->second = std::max(it->second, at_ms);
    } else if (pending.size() < state_->max_pending) {
      pending.emplace(user_id, at_ms);
    } else if (!state_->overflow_logged) {
      state_->overflow_logged = true;
      log::warn("lastSeenAt updates dropped: the database has been unreachable too long",
                {{"pending", static_cast<std::int64_t>(pending.size())}});
    }
  }
  submit(state_);
}

void last_seen_writer::flush() { submit(state_); }

std::size_t last_seen_writer::pending() const {
  std::lock_guard lock(state_->mutex);
  return state_->pending.size();
}

void last_seen_writer::submit(const std::shared_ptr<state>& s) {
  std::unordered_map<std::int64_t, std::int64_t> batch;
  {
    std::lock_guard lock(s->mutex);
    if (s->in_flight || s->pending.empty()) return;
    s->in_flight = true;
    batch.swap(s->pending);
  }
  auto job = [s, batch](store::db_context& ctx) mutable { write_batch(ctx, s, std::move(batch)); };
  if (s->pool.submit(std::move(job))) return;
  // The queue is full: kept for the next report or flush.
  std::lock_guard lock(s->mutex);
  s->in_flight = false;
  s->put_back(batch);
}

void last_seen_writer::write_batch(store::db_context& ctx, const std::shared_ptr<state>& s,
                                   std::unordered_map<std::int64_t, std::int64_t> batch) {
  bool written = false;
  if (ctx.db != nullptr) {
    const std::vector<std::pair<std::int64_t, std::int64_t>> rows(batch.begin(), batch.end());
    const auto r = store::record_last_seen(*ctx.db, rows);
    written = r.has_value();
    if (!r) log::warn("lastSeenAt not written; kept for the next try", {{"error", r.error().message}});
  }
  bool more = false;
  {
    std::lock_guard lock(s->mutex);
    s->in_flight = false;
    if (written) {
      s->overflow_logged = false;
      more = !s->pending.empty();
    } else {
      s->put_back(batch);
    }
  }
  if (more) submit(s);
}

}  // namespace chat::gateway
