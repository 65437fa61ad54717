#include "tokens/revocations.hpp"

#include <gtest/gtest.h>

using namespace chat::chatd::tokens;

namespace {

constexpr std::int64_t now = 1'800'000'000;

revocation token(std::int64_t user, std::string jti, std::int64_t until = now + 100) {
  return {revocation_kind::token, user, std::move(jti), 0, until};
}
revocation session(std::int64_t user, std::string sid, std::int64_t until = now + 100) {
  return {revocation_kind::session, user, std::move(sid), 0, until};
}
revocation user(std::int64_t id, std::int64_t before, std::int64_t until = now + 100) {
  return {revocation_kind::user, id, {}, before, until};
}

}  // namespace

TEST(RevocationText, RoundTripsEveryKind) {
  for (const auto& r : {token(7, "abc-_1"), session(8, "S1"), user(9, now - 5)}) {
    const auto text = encode(r);
    const auto back = decode(text);
    ASSERT_TRUE(back) << text;
    EXPECT_EQ(*back, r) << text;
  }
  EXPECT_EQ(encode(token(7, "abc", 5)), "t:7:abc:5");
  EXPECT_EQ(encode(user(9, 3, 5)), "u:9:3:5");
}

TEST(RevocationText, RefusesAnythingElse) {
  for (const char* bad : {"", "t", "t:", "x:1:abc:5", "t:0:abc:5", "t:-1:abc:5", "t:1::5", "t:1:a b:5", "t:1:abc:",
                          "t:1:abc:x", "u:1:abc:5", "u:1:0:5", "t:1:abc", "t:1:a:b:5", "t:99999999999999999999:a:5"}) {
    EXPECT_FALSE(decode(bad)) << bad;
  }
}

TEST(RevocationCache, ChecksEachKind) {
  revocation_cache cache;
  EXPECT_TRUE(cache.add(token(1, "j1"), now));
  EXPECT_TRUE(cache.add(session(2, "s2"), now));
  EXPECT_TRUE(cache.add(user(3, now - 10), now));

  EXPECT_EQ(cache.check({1, "j1", "", now}), revocation_reason::token);
  EXPECT_EQ(cache.check({1, "j2", "", now}), revocation_reason::none);
  EXPECT_EQ(cache.check({2, "jx", "s2", now}), revocation_reason::session);
  EXPECT_EQ(cache.check({2, "jx", "s3", now}), revocation_reason::none);
  EXPECT_EQ(cache.check({2, "jx", "", now}), revocation_reason::none);  // no sid: not that session
  EXPECT_EQ(cache.check({3, "j", "", now - 11}), revocation_reason::user);
  EXPECT_EQ(cache.check({3, "j", "", now - 10}), revocation_reason::none);  // issued at the watermark
  EXPECT_EQ(cache.check({4, "j", "", now - 11}), revocation_reason::none);  // another user
}

TEST(RevocationCache, KnownOrExpiredEntriesChangeNothing) {
  revocation_cache cache;
  EXPECT_TRUE(cache.add(token(1, "j1"), now));
  EXPECT_FALSE(cache.add(token(1, "j1"), now));
  EXPECT_FALSE(cache.add(token(1, "old", now), now));  // until == now: names no valid token
  EXPECT_FALSE(cache.is_revoked({1, "old", "", now}));
  // A user's watermark only moves forwards.
  EXPECT_TRUE(cache.add(user(3, now - 10), now));
  EXPECT_FALSE(cache.add(user(3, now - 20), now));
  EXPECT_TRUE(cache.is_revoked({3, "j", "", now - 15}));
  EXPECT_TRUE(cache.add(user(3, now), now));
  EXPECT_TRUE(cache.is_revoked({3, "j", "", now - 5}));
  EXPECT_EQ(cache.size(), 2u);
}

TEST(RevocationCache, PruneForgetsWhatExpired) {
  revocation_cache cache;
  cache.add(token(1, "a", now + 10), now);
  cache.add(token(1, "b", now + 100), now);
  cache.add(session(1, "s", now + 10), now);
  cache.add(user(2, now, now + 10), now);
  cache.prune(now + 10);
  EXPECT_EQ(cache.size(), 1u);
  EXPECT_FALSE(cache.is_revoked({1, "a", "", now}));
  EXPECT_TRUE(cache.is_revoked({1, "b", "", now}));
}

TEST(RevocationCache, CompleteOnlyWhileLiveAndNotOverflowed) {
  revocation_cache cache(2);
  EXPECT_FALSE(cache.complete());  // nothing loaded yet
  cache.set_live(true);
  EXPECT_TRUE(cache.complete());
  EXPECT_TRUE(cache.add(token(1, "a"), now));
  EXPECT_TRUE(cache.add(token(1, "b"), now));
  EXPECT_FALSE(cache.add(token(1, "c"), now));  // past the bound: refused...
  EXPECT_FALSE(cache.complete());               // ...and the cache no longer claims to know everything
  cache.prune(now + 1000);
  EXPECT_FALSE(cache.complete());  // what was refused is still unknown
  cache.begin_full_load();         // the feed loads everything again
  EXPECT_TRUE(cache.complete());
  cache.set_live(false);
  EXPECT_FALSE(cache.complete());
}
