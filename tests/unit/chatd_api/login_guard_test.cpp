#include "store/login_guard.hpp"

#include <gtest/gtest.h>

#include <string>

using chat::store::login_failures_key;

TEST(LoginGuard, KeyIsStablePerEmailAndHidesIt) {
  const std::string a = login_failures_key("alice@example.com");
  EXPECT_EQ(a, login_failures_key("alice@example.com"));
  EXPECT_NE(a, login_failures_key("alice@example.org"));
  EXPECT_NE(a, login_failures_key(""));
  const std::string prefix = "auth:login-failures:";
  ASSERT_EQ(a.rfind(prefix, 0), 0u);
  EXPECT_EQ(a.size(), prefix.size() + 32);  // 16-byte digest in hex
  EXPECT_EQ(a.find("alice"), std::string::npos);
  EXPECT_EQ(a.find_first_not_of("0123456789abcdef", prefix.size()), std::string::npos);
}
