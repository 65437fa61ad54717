#pragma once
// lastSeenAt (docs/rest.md "Profiles"): presence_service reports when a user's last session on
// any node is gone; this writes it to users.last_seen_at (store/people.hpp record_last_seen)
// on the db_pool, one statement per batch, never on the caller's thread.
//
// At most one job is in the pool at a time; what is reported meanwhile waits (one entry per
// user, the latest time) and goes with the next. While the database is down or the pool's
// queue is full, the entries wait and the next report or flush() tries again (presence_service
// calls flush() on every pass of its worker, at least every --presence-refresh); past
// max_pending users the oldest reports are kept and newer users are dropped (and logged).
#include "store/db_pool.hpp"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <unordered_map>

namespace chat::gateway {

class last_seen_writer {
 public:
  // `pool` must outlive the jobs this submits (the app stops the pool after the gateway).
  explicit last_seen_writer(store::db_pool& pool, std::size_t max_pending = 100000);

  // Any thread, never blocks.
  void record(std::int64_t user_id, std::int64_t at_ms);
  // Submits what waits, unless a job is in flight. Any thread, never blocks.
  void flush();
  // Users waiting to be written (for tests and metrics).
  std::size_t pending() const;

 private:
  struct state;
  // Submits the pending entries unless a job is in flight; a job that wrote submits again
  // when more came meanwhile.
  static void submit(const std::shared_ptr<state>& s);
  static void write_batch(store::db_context& ctx, const std::shared_ptr<state>& s,
                          std::unordered_map<std::int64_t, std::int64_t> batch);

  std::shared_ptr<state> state_;  // shared with the jobs in flight
};

}  // namespace chat::gateway
