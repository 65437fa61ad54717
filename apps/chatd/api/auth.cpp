#include "api/auth.hpp"

#include "api/errors.hpp"

#include <chat/auth/jwt.hpp>

namespace chat::chatd::api {

auth_outcome authenticate(const http::request& req, std::string_view secret, std::int64_t now_unix_s) {
  auth_outcome out;
  const auto header = req.find(http::bhttp::field::authorization);
  if (header == req.end()) {
    out.failure = auth_failure::missing;
    return out;
  }
  const auto token = auth::bearer_token(header->value());
  if (!token) {
    out.failure = auth_failure::malformed;
    return out;
  }
  auth::claims claims;
  if (const auto ec = auth::verify_jwt(*token, secret, now_unix_s, claims)) {
    out.failure = ec == auth::errc::expired ? auth_failure::expired : auth_failure::invalid;
    out.detail = ec;
    return out;
  }
  out.who = caller{claims.user_id,   std::move(claims.email), std::move(claims.token_id), std::move(claims.session_id),
                   claims.issued_at, claims.expires_at};
  return out;
}

http::response unauthorized(auth_failure failure) {
  std::string_view message = "authentication required";
  std::string_view challenge = R"(Bearer realm="chat")";
  switch (failure) {
    case auth_failure::unavailable:
      return http::error_response(http::status::service_unavailable, codes::unavailable,
                                  "cannot check the token right now (Redis and PostgreSQL unreachable); retry shortly");
    case auth_failure::revoked:
      message = "token revoked";
      challenge = R"(Bearer realm="chat", error="invalid_token", error_description="token revoked")";
      break;
    case auth_failure::none:
    case auth_failure::missing: break;
    case auth_failure::malformed:
      message = "the Authorization header must be 'Bearer <token>'";
      challenge = R"(Bearer realm="chat", error="invalid_request")";
      break;
    case auth_failure::invalid:
      message = "invalid token";
      challenge = R"(Bearer realm="chat", error="invalid_token")";
      break;
    case auth_failure::expired:
      message = "token expired";
      challenge = R"(Bearer realm="chat", error="invalid_token", error_description="token expired")";
      break;
  }
  auto res = http::error_response(http::status::unauthorized, codes::unauthorized, message);
  res.set(http::bhttp::field::www_authenticate, challenge);
  return res;
}

}  // namespace chat::chatd::api
