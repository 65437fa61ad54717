#include "assertions.hpp"

#include <gtest/gtest.h>

using namespace chatload;

TEST(Assertions, LatencyUnits) {
  std::string why;
  auto a = parse_assertion("p99<50ms", why);
  ASSERT_TRUE(a) << why;
  EXPECT_EQ(a->metric, "p99");
  EXPECT_EQ(a->op, compare_op::lt);
  EXPECT_DOUBLE_EQ(a->threshold, 50);
  EXPECT_DOUBLE_EQ(parse_assertion("max <= 2s", why)->threshold, 2000);
  EXPECT_DOUBLE_EQ(parse_assertion("receipt_p99<1500us", why)->threshold, 1.5);
  EXPECT_DOUBLE_EQ(parse_assertion("p50<0", why)->threshold, 0);
  EXPECT_EQ(parse_assertion("p999>=3ms", why)->op, compare_op::ge);
}

TEST(Assertions, Counts) {
  std::string why;
  auto a = parse_assertion("lost==0", why);
  ASSERT_TRUE(a) << why;
  EXPECT_EQ(a->op, compare_op::eq);
  EXPECT_TRUE(holds(*a, 0));
  EXPECT_FALSE(holds(*a, 1));
  EXPECT_EQ(parse_assertion("dropped_sends != 3", why)->op, compare_op::ne);
  EXPECT_FALSE(parse_assertion("lost==0ms", why));
  EXPECT_NE(why.find("count"), std::string::npos);
}

TEST(Assertions, Rejects) {
  std::string why;
  EXPECT_FALSE(parse_assertion("p98<5ms", why));
  EXPECT_NE(why.find("unknown metric"), std::string::npos);
  EXPECT_FALSE(parse_assertion("p99 50ms", why));
  EXPECT_FALSE(parse_assertion("p99<fast", why));
  EXPECT_FALSE(parse_assertion("p99<5min", why));
  EXPECT_FALSE(parse_assertion("p99=<5", why));
}

TEST(Assertions, Holds) {
  std::string why;
  auto lt = *parse_assertion("p99<50ms", why);
  EXPECT_TRUE(holds(lt, 49.9));
  EXPECT_FALSE(holds(lt, 50));
  auto le = *parse_assertion("p99<=50ms", why);
  EXPECT_TRUE(holds(le, 50));
  auto gt = *parse_assertion("p50>1ms", why);
  EXPECT_FALSE(holds(gt, 1));
}
