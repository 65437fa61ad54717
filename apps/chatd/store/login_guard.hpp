#pragma once
// Failed-login accounting in Redis, shared by every chatd node: after `limit` failed logins
// for one email within a window, further logins for that email are refused (429) until the
// window ends. Keys are `auth:login-failures:{hash}`, where hash is a keyed BLAKE2b of the
// normalised email (no address is readable in Redis). Redis down = no limit (fail open): a
// Redis outage must not lock everyone out; the Argon2 cost still bounds guessing.
#include "redis/redis_client.hpp"

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace chat::store {

// The Redis key of an email's failure counter. `email` must already be normalised.
std::string login_failures_key(std::string_view email);

// Seconds until the lock on `email` ends, when it has `limit` or more failures in the
// current window; nullopt when not locked or when Redis cannot be asked.
std::optional<std::chrono::seconds> login_lock_remaining(redis::client& redis, std::string_view email, int limit);

// Counts one failed login; the window starts at the first failure. Best effort.
void record_login_failure(redis::client& redis, std::string_view email, std::chrono::seconds window);

// A successful login forgets the failures. Best effort.
void clear_login_failures(redis::client& redis, std::string_view email);

}  // namespace chat::store
