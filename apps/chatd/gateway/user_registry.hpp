#pragma once
// Per-user state shared by all sessions of a user on this node: the session count
// (--max-sessions-per-user), the SEND rate limit (--rate-limit, --rate-burst,
// --rate-disconnect-factor) and the typing throttle (--typing-interval). Thread-safe.
//
// Limits are per node: a user connected to two nodes gets the budget twice. That keeps the
// hot path free of Redis round trips; docs/stomp.md names the limits, not where they are counted.
#include "gateway/ports.hpp"

#include <cstdint>
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
};

enum class send_verdict {
  allowed,     // deliver it
  limited,     // over the limit: drop it, tell the client on /user/queue/errors
  disconnect,  // past disconnect_factor x the limit: ERROR and close
};

class user_registry {
 public:
  explicit user_registry(user_limits limits) : limits_(limits) {}

  // False when the user already has max_sessions sessions on this node.
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

 private:
  struct user_state {
    int sessions = 0;
    token_bucket sends;
    token_bucket hard;
    std::unordered_map<std::int64_t, time_point> typing;  // room -> last broadcast
  };

  user_state& state_of(std::int64_t user_id, time_point now);
  bool idle(const user_state& s, time_point now) const;

  const user_limits limits_;
  mutable std::mutex mutex_;
  std::unordered_map<std::int64_t, user_state> users_;
};

}  // namespace chat::gateway
