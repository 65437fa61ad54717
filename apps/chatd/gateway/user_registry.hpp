#pragma once
// Per-user state shared by all sessions of a user on this node: the session count
// (--max-sessions-per-user), the SEND rate limit (--rate-limit, --rate-burst,
// --rate-disconnect-factor) and the typing throttle (--typing-interval). Thread-safe.
//
// The limits hold across nodes (docs/stomp.md "Limits across nodes"). Every decision is local and
// immediate, from this node's view of the cluster; a shared_limits adapter
// (gateway_adapters/redis_limits) syncs that view in batches on its own thread:
// - SENDs: each user has one cluster-wide token bucket pair (SEND, disconnect) in Redis.
//   A sync adds this node's usage since the last sync to it and returns its level; the
//   node's own buckets are then reset to that level minus what it took since. Between two
//   syncs a node does not see the other nodes' SENDs, so a user on N nodes can get up to
//   (N-1) x what the other nodes accept in one sync interval through beyond the budget; the
//   cluster bucket goes negative by that much (at most one capacity) and the excess is paid
//   back before the user can send again, so the sustained rate holds.
// - Sessions: open_session counts this node's sessions plus those on other live nodes as
//   of the last sync; a CONNECT fetches the user's view first (redis_limits::prefetch), so
//   only CONNECTs racing on two nodes within one sync can pass the limit together.
// - Typing: the per-node throttle here is the cheap first filter; presence_service
//   publishes a notice only if no node did for the user and room within the interval.
// While the store cannot be reached (or before the first sync) every limit is per node,
// as if the node were alone.
#include "gateway/ports.hpp"
#include "gateway/shared_limits.hpp"

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <unordered_map>

namespace chat::gateway {

// A classic token bucket: `rate` tokens per second, at most `capacity` saved up.
class token_bucket {
 public:
  token_bucket() = default;
  token_bucket(double rate, double capacity, time_point now) noexcept
      : rate_(rate), capacity_(capacity), tokens_(capacity), updated_(now) {}

  // Takes one token if there is one.
  bool take(time_point now) noexcept;
  // True when the bucket is full again (nothing to remember about this user).
  bool full(time_point now) const noexcept;
  // Sets the level (at most the capacity; below zero is a debt) as of `now`.
  void reset(double tokens, time_point now) noexcept;

 private:
  double level(time_point now) const noexcept;

  double rate_ = 0;
  double capacity_ = 0;
  double tokens_ = 0;
  time_point updated_{};
};

struct user_limits {
  int max_sessions = 20;
  double rate_per_s = 10;
  double burst = 20;
  double disconnect_factor = 5;
  std::chrono::milliseconds typing_interval{1000};
  // The cluster's view; null: the limits are per node.
  std::shared_ptr<shared_limits> shared;
};

enum class send_verdict {
  allowed,     // deliver it
  limited,     // over the limit: drop it, tell the client on /user/queue/errors
  disconnect,  // past disconnect_factor x the limit: ERROR and close
};

class user_registry final : public limits_participant {
 public:
  // Attaches itself to limits.shared, if any, until destroyed.
  explicit user_registry(user_limits limits);
  ~user_registry() override;
  user_registry(const user_registry&) = delete;
  user_registry& operator=(const user_registry&) = delete;

  // False when the user already has max_sessions sessions on this node and (as of the last
  // sync) the other nodes together.
  bool open_session(std::int64_t user_id, time_point now);
  void close_session(std::int64_t user_id, time_point now);
  int sessions_of(std::int64_t user_id) const;

  // One SEND attempt by the user. Every attempt counts against the disconnect budget
  // (rate x factor, burst x factor); allowed ones also against the normal budget.
  send_verdict take_send(std::int64_t user_id, time_point now);

  // True when the user's typing notice for the room may be broadcast now (at most one per
  // typing_interval per user and room).
  bool take_typing(std::int64_t user_id, std::int64_t room_id, time_point now);

  // Forgets users without sessions whose buckets have refilled; call now and then.
  void sweep(time_point now);

  std::size_t tracked_users() const;

  // True while the last sync with limits.shared succeeded (the limits are cluster-wide).
  bool shared_available() const noexcept { return shared_available_.load(std::memory_order_relaxed); }

  // limits_participant: the shared_limits worker thread.
  limits_batch collect(time_point now, bool everyone, const std::vector<std::int64_t>& also) override;
  void apply(const limits_batch& sent, const std::optional<std::vector<limits_state>>& states, time_point now) override;

 private:
  struct user_state {
    int sessions = 0;
    token_bucket sends;
    token_bucket hard;
    std::unordered_map<std::int64_t, time_point> typing;  // room -> last broadcast
    // Since the last collect, for the cluster-wide buckets.
    double unsynced_sends = 0;
    double unsynced_attempts = 0;
    int synced_sessions = 0;     // this node's count the store has (as of the last sync)
    int sessions_elsewhere = 0;  // on other nodes, as of the last sync
    bool wanted = false;         // about to connect here: sync it next time
  };

  user_state& state_of(std::int64_t user_id, time_point now);
  bool idle(const user_state& s, time_point now) const;

  const user_limits limits_;
  mutable std::mutex mutex_;
  std::unordered_map<std::int64_t, user_state> users_;
  std::atomic<bool> shared_available_{false};
};

}  // namespace chat::gateway
