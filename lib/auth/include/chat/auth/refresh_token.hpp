#pragma once
// Opaque refresh tokens and random token ids (docs/rest.md "Tokens").
//
// A refresh token is "crt_" + base64url(32 random bytes): 256 bits from the operating system's
// CSPRNG (libsodium randombytes), nothing inside it but chance. The server keeps only its
// SHA-256 (refresh_token_hash), so a copy of the database cannot be replayed. It has no dots,
// so it never parses as a JWT, and a JWT never has its shape: neither can stand in for the
// other.
#include <cstddef>
#include <string>
#include <string_view>

namespace chat::auth {

inline constexpr std::string_view refresh_token_prefix = "crt_";
// The prefix and 43 base64url characters (32 bytes, unpadded).
inline constexpr std::size_t refresh_token_length = 47;

// A new refresh token; empty only when libsodium cannot be initialised.
std::string make_refresh_token();

// A new random id for "jti" and "sid" (and refresh families): 16 random bytes, base64url, 22
// characters; empty only when libsodium cannot be initialised.
std::string make_token_id();

// Whether `token` has the shape make_refresh_token() gives (prefix, length, alphabet). Cheap:
// run before any hashing or database work.
bool is_refresh_token_shaped(std::string_view token) noexcept;

// The lower-case hex SHA-256 of `token` (64 characters): what the database stores and looks up.
std::string refresh_token_hash(std::string_view token);

}  // namespace chat::auth
