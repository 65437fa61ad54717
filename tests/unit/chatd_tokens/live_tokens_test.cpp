#include "tokens/live_tokens.hpp"

#include <gtest/gtest.h>

using namespace chat::chatd::tokens;

namespace {

constexpr std::int64_t live_now = 1'800'000'000;

live_tokens::holder holder(std::int64_t user, std::string jti, std::string sid, std::int64_t iat, int& told) {
  return {user, std::move(jti), std::move(sid), iat, [&told] { ++told; }};
}

}  // namespace

TEST(LiveTokens, SweepTellsTheHoldersOfRevokedTokensOnce) {
  revocation_cache cache;
  live_tokens live;
  int a = 0, b = 0, c = 0, d = 0;
  live.add(holder(1, "ja", "s1", live_now, a));
  live.add(holder(1, "jb", "s1", live_now, b));  // same session as a
  live.add(holder(1, "jc", "s2", live_now, c));  // another session of the same user
  live.add(holder(2, "jd", "", live_now, d));
  EXPECT_EQ(live.sweep(cache), 0u);

  cache.add({revocation_kind::session, 1, "s1", 0, live_now + 100}, live_now);
  EXPECT_EQ(live.sweep(cache, 1), 2u);
  EXPECT_EQ(a, 1);
  EXPECT_EQ(b, 1);
  EXPECT_EQ(c, 0);
  EXPECT_EQ(live.size(), 2u);
  EXPECT_EQ(live.sweep(cache), 0u);  // told once, then forgotten
  EXPECT_EQ(a, 1);

  cache.add({revocation_kind::token, 2, "jd", 0, live_now + 100}, live_now);
  EXPECT_EQ(live.sweep(cache, 1), 0u);  // only user 1 looked at
  EXPECT_EQ(live.sweep(cache), 1u);     // everyone
  EXPECT_EQ(d, 1);
  EXPECT_EQ(c, 0);
}

TEST(LiveTokens, WatermarkEndsEveryOlderSessionOfTheUser) {
  revocation_cache cache;
  live_tokens live;
  int old1 = 0, old2 = 0, fresh = 0;
  live.add(holder(5, "a", "x", live_now - 10, old1));
  live.add(holder(5, "b", "y", live_now - 1, old2));
  live.add(holder(5, "c", "z", live_now, fresh));
  cache.add({revocation_kind::user, 5, {}, live_now, live_now + 100}, live_now);
  EXPECT_EQ(live.sweep(cache, 5), 2u);
  EXPECT_EQ(old1 + old2, 2);
  EXPECT_EQ(fresh, 0);
}

TEST(LiveTokens, RemovedHoldersAreNotTold) {
  revocation_cache cache;
  live_tokens live;
  int told = 0;
  const auto h = live.add(holder(1, "j", "", live_now, told));
  EXPECT_NE(h, 0u);
  live.remove(h);
  live.remove(h);      // twice: ignored
  live.remove(12345);  // unknown: ignored
  cache.add({revocation_kind::token, 1, "j", 0, live_now + 100}, live_now);
  EXPECT_EQ(live.sweep(cache), 0u);
  EXPECT_EQ(told, 0);
  EXPECT_EQ(live.size(), 0u);
}

TEST(LiveTokens, AHolderMayUnregisterFromItsCallback) {
  revocation_cache cache;
  live_tokens live;
  live_tokens::handle h = 0;
  int told = 0;
  h = live.add({1, "j", "", live_now, [&] {
                  ++told;
                  live.remove(h);  // no lock is held while holders are told
                }});
  cache.add({revocation_kind::token, 1, "j", 0, live_now + 100}, live_now);
  EXPECT_EQ(live.sweep(cache), 1u);
  EXPECT_EQ(told, 1);
}
