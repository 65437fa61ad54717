#pragma once
// The access tokens that live connections of this node were opened with: STOMP sessions and
// GET /api/rooms/stream readers (docs/rest.md "Tokens"). When a token is revoked, its holders
// are told (the session sends ERROR "token revoked" and closes; the stream ends). Pure and
// thread-safe: holders register from their strands; the revocation feed sweeps from its thread.
#include "tokens/revocations.hpp"

#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace chat::chatd::tokens {

class live_tokens {
 public:
  using handle = std::uint64_t;

  struct holder {
    std::int64_t user_id = 0;
    std::string token_id;    // jti
    std::string session_id;  // sid, may be empty
    std::int64_t issued_at = 0;
    // Called at most once, from the sweeping thread, without a lock held: must only post
    // (e.g. to the session's strand) and never block.
    std::function<void()> revoked;
  };

  live_tokens() = default;
  live_tokens(const live_tokens&) = delete;
  live_tokens& operator=(const live_tokens&) = delete;

  // Registers a holder; 0 never names one.
  handle add(holder h);
  // Unregisters (the connection closed); unknown or already swept handles are ignored.
  void remove(handle h);

  // Tells every holder (of `user_id` only, when given) whose token `cache` refuses now, and
  // forgets them. Returns how many were told.
  std::size_t sweep(const revocation_cache& cache, std::optional<std::int64_t> user_id = std::nullopt);

  std::size_t size() const;

 private:
  struct entry {
    handle id;
    holder h;
  };
  mutable std::mutex mutex_;
  handle next_ = 1;
  std::unordered_map<std::int64_t, std::vector<entry>> by_user_;
  std::unordered_map<handle, std::int64_t> users_of_;
};

}  // namespace chat::chatd::tokens
