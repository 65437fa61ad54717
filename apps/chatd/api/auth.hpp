#pragma once
// Bearer-token authentication of REST requests (docs/rest.md): every route but signup, login
// and health. Pure: no I/O, runs on the I/O thread.
#include "http/types.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>

namespace chat::chatd::api {

// The authenticated user of a request (the token's claims).
struct caller {
  std::int64_t user_id = 0;
  std::string email;
  std::string token_id;    // the token's jti
  std::string session_id;  // its sid: the refresh family (empty for a token without one)
  std::int64_t issued_at = 0;
  std::int64_t expires_at = 0;
};

enum class auth_failure {
  none,
  missing,    // no Authorization header
  malformed,  // not "Bearer <token>"
  invalid,    // bad shape, algorithm, signature or claims
  expired,
  revoked,      // logout, logout-all, password change, reuse of a refresh token
  unavailable,  // whether it was revoked cannot be told (Redis and PostgreSQL down): 503
};

struct auth_outcome {
  std::optional<caller> who;  // set on success
  auth_failure failure = auth_failure::none;
  std::error_code detail;  // chat::auth::errc for invalid/expired; for logs, not for the peer
};

// Checks `Authorization: Bearer <jwt>` against `secret` at `now_unix_s`. Never throws.
auth_outcome authenticate(const http::request& req, std::string_view secret, std::int64_t now_unix_s);

// 401 {"error":{"code":"unauthorized",…}} with a WWW-Authenticate challenge (RFC 6750);
// `unavailable` is 503.
http::response unauthorized(auth_failure failure);

}  // namespace chat::chatd::api
