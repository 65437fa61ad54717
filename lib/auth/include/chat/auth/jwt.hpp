#pragma once
// JSON Web Tokens, HS256 only (docs/rest.md). The token is a JWS in compact serialization:
//   base64url({"alg":"HS256","typ":"JWT"}) "." base64url(payload) "." base64url(HMAC-SHA256)
// with payload {"sub":"<userId>","email":"…","iat":<s>,"exp":<s>,"jti":"…"[,"sid":"…"]}.
// "jti" names the token (revocation of one access token); "sid" names the login session it
// belongs to (the refresh-token family: revoking the family revokes its access tokens too).
#include <chat/auth/errc.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>

namespace chat::auth {

// Tolerated clock difference between the node that issued a token and the one checking it:
// a token whose "iat" (or "nbf") is up to this many seconds in the future is accepted.
// "exp" gets no leeway: a token is expired from the second `exp` on.
inline constexpr std::int64_t max_clock_skew_s = 60;

// Tokens longer than this are refused as malformed before any decoding work.
inline constexpr std::size_t max_token_length = 8192;

// Default lifetime of an issued access token (docs/rest.md: 1 h; refresh tokens renew it).
inline constexpr std::int64_t default_token_lifetime_s = 60 * 60;

// "jti" and "sid" are 1..max_token_id_length characters of the base64url alphabet
// (make_token_id() makes 22); anything else is refused as malformed, so an id can be a Redis
// member or a log field without escaping.
inline constexpr std::size_t max_token_id_length = 64;

struct claims {
  std::int64_t user_id = 0;     // "sub", a positive int64 written as a decimal string
  std::string email;            // "email"
  std::int64_t issued_at = 0;   // "iat", Unix seconds
  std::int64_t expires_at = 0;  // "exp", Unix seconds
  std::string token_id;         // "jti": required (verify_jwt refuses a token without one)
  std::string session_id;       // "sid": optional; empty = none
};

// Whether `id` may be a "jti" or "sid" (see max_token_id_length).
bool is_valid_token_id(std::string_view id) noexcept;

// Signs `c` with HMAC-SHA256 under `secret` ("sid" only when session_id is set). Never throws for any field value (an
// email that is not valid UTF-8 has the bad bytes replaced by U+FFFD in the payload). Returns an empty string only if
// OpenSSL's HMAC itself fails. verify_jwt() refuses every token when the secret is empty, so callers must insist on a
// configured secret (docs/rest.md).
std::string sign_jwt(const claims& c, std::string_view secret);

// Checks `token` and, on success, stores its claims in `out` (left untouched on failure).
// Order: shape and header (malformed / bad_algorithm), then the signature (bad_signature),
// and only then is the payload parsed (malformed), followed by the time checks
// (expired, not_yet_valid). Extra payload members are ignored; a header with "crit" is
// refused as malformed (RFC 7515 §4.1.11: we implement no extensions). Never throws.
std::error_code verify_jwt(std::string_view token, std::string_view secret, std::int64_t now_unix_s, claims& out);

// The token of an HTTP Authorization header value "Bearer <token>" (RFC 6750): the scheme is
// case-insensitive, separated by one or more spaces; surrounding whitespace is ignored.
// Returns nullopt for another scheme, an empty token, or a token containing whitespace.
// The result points into `authorization_header`.
std::optional<std::string_view> bearer_token(std::string_view authorization_header) noexcept;

}  // namespace chat::auth
