#pragma once
// Why a bearer token was refused. All values map to HTTP 401 / STOMP ERROR "unauthorized";
// the distinction is for logs and metrics, not for the peer.
#include <system_error>
#include <type_traits>

namespace chat::auth {

enum class errc {
  // 0 is success, as for every std::error_code.
  malformed = 1,  // not three base64url parts, bad JSON, missing or mistyped claims
  bad_algorithm,  // header "alg" is anything but "HS256" (including "none" and absent)
  bad_signature,  // HMAC-SHA256 does not match (wrong secret, tampered token)
  expired,        // now >= exp
  not_yet_valid,  // iat (or nbf) lies in the future beyond max_clock_skew_s
};

const std::error_category& auth_category() noexcept;

inline std::error_code make_error_code(errc e) noexcept { return {static_cast<int>(e), auth_category()}; }

}  // namespace chat::auth

template <>
struct std::is_error_code_enum<chat::auth::errc> : std::true_type {};
