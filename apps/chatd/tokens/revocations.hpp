#pragma once
// Revoked access tokens (docs/rest.md "Tokens", docs/topics.md "Token revocations"): what a
// node knows was revoked, checked on every authenticated request, STOMP CONNECT and live
// session. Pure: no I/O; token_adapters/revocation_feed fills it from Redis (and PostgreSQL
// while Redis is down) and api/ and gateway/ read it.
//
// Three kinds of revocation, each live until no token it names can still be valid:
// - token:   one access token, by its "jti" (logout), until its "exp";
// - session: every access token of one login session, by "sid" (logout, reuse of a used
//            refresh token), until the newest of them may have expired (revocation + --jwt-ttl);
// - user:    every access token of a user issued before a moment (logout-all, password
//            change), by "iat" < before, until before + --jwt-ttl.
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace chat::chatd::tokens {

enum class revocation_kind { token, session, user };

struct revocation {
  revocation_kind kind = revocation_kind::token;
  std::int64_t user_id = 0;
  std::string id;           // token: the jti; session: the sid; user: empty
  std::int64_t before = 0;  // user: tokens with iat < before are revoked (Unix s); 0 otherwise
  std::int64_t until = 0;   // Unix s from which the entry names no valid token any more

  friend bool operator==(const revocation&, const revocation&) = default;
};

// The text form shared by Redis (a member of the revocations sorted set, the payload on the
// revocations channel): "t:<user>:<jti>:<until>", "s:<user>:<sid>:<until>",
// "u:<user>:<before>:<until>". Ids are base64url (auth::is_valid_token_id), so ':' never
// occurs inside one.
std::string encode(const revocation& r);
// nullopt for anything encode() does not produce (a foreign or damaged value is ignored).
std::optional<revocation> decode(std::string_view text);

// An access token as the checks see it (the claims verify_jwt gave).
struct token_ref {
  std::int64_t user_id = 0;
  std::string_view token_id;    // jti
  std::string_view session_id;  // sid; empty when the token has none
  std::int64_t issued_at = 0;   // iat
};

// Why a token is refused, for metrics and logs.
enum class revocation_reason { none, token, session, user };

// What the node knows was revoked. Thread-safe: readers (every request) share a lock; the
// feed thread and the REST workers add. Bounded: past max_entries, add() refuses and the
// cache stops claiming to be complete (complete() false: REST then asks PostgreSQL).
class revocation_cache {
 public:
  explicit revocation_cache(std::size_t max_entries = 1'000'000) : max_entries_(max_entries) {}
  revocation_cache(const revocation_cache&) = delete;
  revocation_cache& operator=(const revocation_cache&) = delete;

  // Records `r` unless it is already known (or superseded: a user's later watermark) or has
  // expired at `now_s`. True when it changed what is_revoked answers.
  bool add(const revocation& r, std::int64_t now_s);

  revocation_reason check(const token_ref& t) const;
  bool is_revoked(const token_ref& t) const { return check(t) != revocation_reason::none; }

  // Before a load of every revocation there is (the feed): forgets that an earlier add()
  // overflowed, since what was refused then is added again now.
  void begin_full_load() noexcept;

  // Drops entries that name no valid token at `now_s` any more.
  void prune(std::int64_t now_s);
  std::size_t size() const;

  // Whether the cache holds every revocation made anywhere: the feed is subscribed and has
  // loaded what was revoked before (set by the feed). While false, REST checks each token in
  // PostgreSQL (api/rest_api.cpp).
  void set_live(bool live) noexcept;
  bool complete() const noexcept;

 private:
  struct timed {
    std::int64_t user_id = 0;
    std::int64_t until = 0;
  };
  struct watermark {
    std::int64_t before = 0;
    std::int64_t until = 0;
  };

  const std::size_t max_entries_;
  mutable std::shared_mutex mutex_;
  std::unordered_map<std::string, timed> tokens_;
  std::unordered_map<std::string, timed> sessions_;
  std::unordered_map<std::int64_t, watermark> users_;
  bool overflowed_ = false;  // under mutex_
  bool live_ = false;        // under mutex_
};

}  // namespace chat::chatd::tokens
