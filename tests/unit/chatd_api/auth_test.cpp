#include "api/auth.hpp"

#include <chat/auth/base64url.hpp>
#include <chat/auth/jwt.hpp>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

using namespace chat::chatd::api;

namespace {

constexpr std::string_view secret = "unit-test-secret-0123456789abcdef0123";
constexpr std::int64_t now = 1'800'000'000;

std::string token(std::int64_t user, std::int64_t iat = now - 10, std::int64_t exp = now + 3600,
                  std::string_view key = secret) {
  chat::auth::claims c;
  c.user_id = user;
  c.email = "a@example.com";
  c.issued_at = iat;
  c.expires_at = exp;
  c.token_id = "test-jti";
  return chat::auth::sign_jwt(c, key);
}

chat::http::request with_auth(std::string_view value) {
  chat::http::request req{chat::http::verb::get, "/api/users/me", 11};
  req.set(chat::http::bhttp::field::authorization, value);
  return req;
}

}  // namespace

TEST(Authenticate, AcceptsAValidBearerToken) {
  const auto out = authenticate(with_auth("Bearer " + token(42)), secret, now);
  ASSERT_TRUE(out.who);
  EXPECT_EQ(out.who->user_id, 42);
  EXPECT_EQ(out.who->email, "a@example.com");
  EXPECT_EQ(out.failure, auth_failure::none);
  // The scheme is case-insensitive (RFC 6750 via bearer_token).
  EXPECT_TRUE(authenticate(with_auth("bearer " + token(42)), secret, now).who);
}

TEST(Authenticate, MissingHeader) {
  chat::http::request req{chat::http::verb::get, "/api/rooms", 11};
  const auto out = authenticate(req, secret, now);
  EXPECT_FALSE(out.who);
  EXPECT_EQ(out.failure, auth_failure::missing);
}

TEST(Authenticate, MalformedHeader) {
  const std::vector<std::string> values{"Basic dXNlcjpwdw==", "Bearer", "Bearer ", token(1), "Bearer a b"};
  for (const auto& value : values) {
    const auto out = authenticate(with_auth(value), secret, now);
    EXPECT_FALSE(out.who) << value;
    EXPECT_EQ(out.failure, auth_failure::malformed) << value;
  }
}

TEST(Authenticate, RefusesForgedExpiredAndUnsignedTokens) {
  const auto forged =
      authenticate(with_auth("Bearer " + token(1, now, now + 60, "another-secret-0123456789abcdef01")), secret, now);
  EXPECT_FALSE(forged.who);
  EXPECT_EQ(forged.failure, auth_failure::invalid);

  const auto expired = authenticate(with_auth("Bearer " + token(1, now - 7200, now - 1)), secret, now);
  EXPECT_FALSE(expired.who);
  EXPECT_EQ(expired.failure, auth_failure::expired);

  // alg:none with the payload of a valid token and an empty signature.
  const auto valid = token(1);
  const auto payload = valid.substr(valid.find('.') + 1, valid.rfind('.') - valid.find('.') - 1);
  const auto none_header = chat::auth::base64url_encode(R"({"alg":"none","typ":"JWT"})");
  for (const auto& unsigned_token : {none_header + "." + payload + ".", none_header + "." + payload}) {
    const auto out = authenticate(with_auth("Bearer " + unsigned_token), secret, now);
    EXPECT_FALSE(out.who);
    EXPECT_EQ(out.failure, auth_failure::invalid);
  }

  const auto garbage = authenticate(with_auth("Bearer not.a.jwt"), secret, now);
  EXPECT_FALSE(garbage.who);
  EXPECT_EQ(garbage.failure, auth_failure::invalid);
}

TEST(Unauthorized, IsA401WithTheErrorBodyAndAChallenge) {
  for (const auto failure :
       {auth_failure::missing, auth_failure::malformed, auth_failure::invalid, auth_failure::expired}) {
    const auto res = unauthorized(failure);
    EXPECT_EQ(res.result(), chat::http::status::unauthorized);
    EXPECT_EQ(res[chat::http::bhttp::field::content_type], "application/json");
    EXPECT_TRUE(std::string(res[chat::http::bhttp::field::www_authenticate]).starts_with("Bearer realm=\"chat\""));
    const auto body = nlohmann::json::parse(res.body());
    EXPECT_EQ(body["error"]["code"], "unauthorized");
    EXPECT_FALSE(body["error"]["message"].get<std::string>().empty());
  }
  EXPECT_NE(std::string(unauthorized(auth_failure::invalid)[chat::http::bhttp::field::www_authenticate])
                .find("invalid_token"),
            std::string::npos);
}
