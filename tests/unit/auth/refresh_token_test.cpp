#include <chat/auth/jwt.hpp>
#include <chat/auth/refresh_token.hpp>

#include <gtest/gtest.h>

#include <set>
#include <string>

using namespace chat::auth;

TEST(RefreshToken, HasItsShapeAndIsNeverAJwt) {
  const auto t = make_refresh_token();
  ASSERT_EQ(t.size(), refresh_token_length);
  EXPECT_TRUE(t.starts_with("crt_"));
  EXPECT_TRUE(is_refresh_token_shaped(t));
  EXPECT_EQ(t.find('.'), std::string::npos);
  claims out;
  EXPECT_TRUE(verify_jwt(t, "secret", 0, out));  // never an access token
}

TEST(RefreshToken, IsRandomEachTime) {
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) seen.insert(make_refresh_token());
  EXPECT_EQ(seen.size(), 1000u);
  std::set<std::string> ids;
  for (int i = 0; i < 1000; ++i) {
    const auto id = make_token_id();
    EXPECT_EQ(id.size(), 22u);
    EXPECT_TRUE(is_valid_token_id(id)) << id;
    ids.insert(id);
  }
  EXPECT_EQ(ids.size(), 1000u);
}

TEST(RefreshToken, ShapeCheckRefusesEverythingElse) {
  const auto t = make_refresh_token();
  EXPECT_FALSE(is_refresh_token_shaped(""));
  EXPECT_FALSE(is_refresh_token_shaped(t.substr(0, t.size() - 1)));
  EXPECT_FALSE(is_refresh_token_shaped(t + "A"));
  EXPECT_FALSE(is_refresh_token_shaped("xrt_" + t.substr(4)));
  std::string bad = t;
  bad[10] = '.';
  EXPECT_FALSE(is_refresh_token_shaped(bad));
  bad[10] = '=';
  EXPECT_FALSE(is_refresh_token_shaped(bad));
  // A JWT is never refresh-shaped.
  claims c{1, "a@example.com", 1, 2, "j", ""};
  EXPECT_FALSE(is_refresh_token_shaped(sign_jwt(c, "k")));
}

TEST(RefreshToken, HashIsHexSha256) {
  // echo -n abc | sha256sum
  EXPECT_EQ(refresh_token_hash("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  const auto t = make_refresh_token();
  EXPECT_EQ(refresh_token_hash(t), refresh_token_hash(t));
  EXPECT_NE(refresh_token_hash(t), refresh_token_hash(make_refresh_token()));
  EXPECT_EQ(refresh_token_hash(t).size(), 64u);
}
