#include "store/login_guard.hpp"

#include <sodium.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <string>

namespace chat::store {
namespace {

// Returns the counter's TTL when it reached ARGV[1], else -2 (missing key) or -3 (below).
constexpr std::string_view lock_script =
    "local n = tonumber(redis.call('GET', KEYS[1]) or '0') "
    "if n < tonumber(ARGV[1]) then return -3 end "
    "return redis.call('TTL', KEYS[1])";

// INCR, and start the window on the first failure only (a steady trickle of failures does
// not extend a lock forever).
constexpr std::string_view count_script =
    "local n = redis.call('INCR', KEYS[1]) "
    "if n == 1 or redis.call('TTL', KEYS[1]) < 0 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end "
    "return n";

}  // namespace

std::string login_failures_key(std::string_view email) {
  static const bool sodium_ready = sodium_init() >= 0;
  (void)sodium_ready;
  // A fixed key: the hash only keeps addresses out of Redis dumps and MONITOR output.
  static constexpr std::array<unsigned char, crypto_generichash_KEYBYTES> hash_key{
      'c', 'h', 'a', 't', 'd', '-', 'l', 'o', 'g', 'i', 'n', '-', 'f', 'a', 'i', 'l',
      'u', 'r', 'e', 's', '-', 'v', '1', '.', '.', '.', '.', '.', '.', '.', '.', '.'};
  std::array<unsigned char, 16> digest{};
  crypto_generichash(digest.data(), digest.size(), reinterpret_cast<const unsigned char*>(email.data()), email.size(),
                     hash_key.data(), hash_key.size());
  std::string key = "auth:login-failures:";
  static constexpr char hex[] = "0123456789abcdef";
  for (const unsigned char b : digest) {
    key.push_back(hex[b >> 4]);
    key.push_back(hex[b & 0xf]);
  }
  return key;
}

std::optional<std::chrono::seconds> login_lock_remaining(redis::client& redis, std::string_view email, int limit) {
  const std::string key = login_failures_key(email);
  const std::string limit_text = std::to_string(limit);
  const auto reply = redis.command({"EVAL", lock_script, "1", key, limit_text});
  if (!reply || reply->type != redis::reply::kind::integer) return std::nullopt;
  if (reply->integer == -3 || reply->integer == -2) return std::nullopt;
  // -1 (no TTL) cannot come from record_login_failure; treat it as one more second.
  return std::chrono::seconds(reply->integer > 0 ? reply->integer : 1);
}

void record_login_failure(redis::client& redis, std::string_view email, std::chrono::seconds window) {
  const std::string key = login_failures_key(email);
  const std::string seconds = std::to_string(std::max<std::int64_t>(1, window.count()));
  (void)redis.command({"EVAL", count_script, "1", key, seconds});
}

void clear_login_failures(redis::client& redis, std::string_view email) {
  const std::string key = login_failures_key(email);
  (void)redis.command({"DEL", key});
}

}  // namespace chat::store
