#include "tokens/refresh_rules.hpp"

#include <gtest/gtest.h>

using namespace chat::chatd::tokens;

TEST(RefreshRules, AFreshTokenRotates) { EXPECT_EQ(judge_refresh({false, false, 1000}, 999), refresh_verdict::rotate); }

TEST(RefreshRules, ExpiredFromItsExpirySecondOn) {
  EXPECT_EQ(judge_refresh({false, false, 1000}, 1000), refresh_verdict::expired);
  EXPECT_EQ(judge_refresh({false, false, 1000}, 5000), refresh_verdict::expired);
}

TEST(RefreshRules, AUsedTokenIsReuseEvenWhenExpired) {
  EXPECT_EQ(judge_refresh({true, false, 1000}, 10), refresh_verdict::reused);
  EXPECT_EQ(judge_refresh({true, false, 1000}, 2000), refresh_verdict::reused);
}

TEST(RefreshRules, ARevokedFamilyWinsOverEverything) {
  EXPECT_EQ(judge_refresh({false, true, 1000}, 10), refresh_verdict::revoked);
  EXPECT_EQ(judge_refresh({true, true, 1000}, 10), refresh_verdict::revoked);
  EXPECT_EQ(judge_refresh({true, true, 1000}, 2000), refresh_verdict::revoked);
}

TEST(RefreshRules, AccessTokensAreNeverIssuedBeforeTheWatermark) {
  EXPECT_EQ(access_issued_at(100, 0), 100);
  EXPECT_EQ(access_issued_at(100, 101), 101);  // right after a logout-all in the same second
  EXPECT_EQ(access_issued_at(100, 50), 100);
}
