#pragma once
// Refresh tokens and revocations in PostgreSQL (sql/0005_tokens.sql, docs/rest.md "Tokens"):
// the durable record. Runs on db_pool workers only. Refresh tokens are handled by their
// SHA-256 (auth::refresh_token_hash), never by their text.
#include "store/error.hpp"
#include "store/session.hpp"
#include "tokens/refresh_rules.hpp"
#include "tokens/revocations.hpp"

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace chat::store {

namespace tokens = chat::chatd::tokens;

// Why a family was revoked (refresh_families.revoked_reason).
enum class revoke_reason { logout, reuse, logout_all, password_change };
std::string_view to_string(revoke_reason r) noexcept;

// A new login session (family `family_id`) with its first refresh token.
result<void> create_refresh_family(session& db, const std::string& family_id, std::int64_t user_id,
                                   const std::string& token_hash, std::int64_t expires_at_s);

struct refresh_outcome {
  tokens::refresh_verdict verdict = tokens::refresh_verdict::unknown;
  // Set unless the verdict is unknown: the token's session and user.
  std::string family_id;
  std::int64_t user_id = 0;
  std::string email;
  std::string nickname;
  std::int64_t watermark = 0;  // user_token_watermarks.revoked_before, 0 when none
};

// One refresh, in one transaction (the token's and its family's rows locked): judges the
// presented token (tokens::judge_refresh at `now_s`); `rotate` marks it used and stores
// `next_hash` (valid until `next_expires_at_s`) in the same family; `reused` revokes the family
// (reason reuse). Two concurrent refreshes of one token: one rotates, the other is reuse.
result<refresh_outcome> rotate_refresh_token(session& db, const std::string& presented_hash,
                                             const std::string& next_hash, std::int64_t next_expires_at_s,
                                             std::int64_t now_s);

// The family of a refresh token, when `token_hash` names one of `user_id`'s.
result<std::optional<std::string>> refresh_family_of(session& db, const std::string& token_hash, std::int64_t user_id);

// Revokes family `family_id` of `user_id` (no-op when it is not theirs or already revoked);
// true when this call revoked it.
result<bool> revoke_refresh_family(session& db, const std::string& family_id, std::int64_t user_id,
                                   revoke_reason reason);

// Revokes one access token until its "exp".
result<void> revoke_access_token(session& db, const std::string& jti, std::int64_t user_id, std::int64_t expires_at_s);

// Every token of the user: the watermark moves to `before_s` (never backwards) and every live
// family is revoked. Returns the watermark in force.
result<std::int64_t> revoke_all_tokens(session& db, std::int64_t user_id, std::int64_t before_s, revoke_reason reason);

// The user's watermark (0 when none): what access_issued_at() needs at login.
result<std::int64_t> token_watermark(session& db, std::int64_t user_id);

// Whether PostgreSQL knows the access token as revoked (by jti, sid or watermark): the REST
// check while the revocation cache is incomplete (Redis down).
result<tokens::revocation_reason> access_token_revocation(session& db, const tokens::token_ref& token);

// The revocations recorded since `since_s` (Unix s; 0: all) that still name a valid token at
// `now_s`, given the access-token lifetime `jwt_ttl`: what the revocation cache loads while
// Redis is down, and to fill Redis when it comes back.
result<std::vector<tokens::revocation>> revocations_since(session& db, std::int64_t since_s, std::int64_t now_s,
                                                          std::chrono::seconds jwt_ttl);

// Forgets expired refresh tokens, expired access-token revocations and families with no token
// left that cannot matter any more. Returns the rows deleted.
result<std::int64_t> delete_expired_tokens(session& db, std::chrono::seconds jwt_ttl);

}  // namespace chat::store
