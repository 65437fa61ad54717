#include "assertions.hpp"

#include <gtest/gtest.h>

#include <limits>

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

TEST(Assertions, RatesTakeAFractionOrAPercentage) {
  std::string why;
  auto a = parse_assertion("error_rate<0.1%", why);
  ASSERT_TRUE(a) << why;
  EXPECT_EQ(a->metric, "error_rate");
  EXPECT_DOUBLE_EQ(a->threshold, 0.001);
  EXPECT_DOUBLE_EQ(parse_assertion("lost_rate<=0.02", why)->threshold, 0.02);
  EXPECT_TRUE(parse_assertion("dropped_rate < 1 %", why));
  EXPECT_FALSE(parse_assertion("error_rate<1ms", why));
  EXPECT_NE(why.find("percentage"), std::string::npos) << why;
  EXPECT_FALSE(parse_assertion("lost<1%", why)) << "a count takes no unit";
}

TEST(Assertions, P99Point9IsAnAliasOfP999) {
  std::string why;
  auto a = parse_assertion("p99.9<80ms", why);
  ASSERT_TRUE(a) << why;
  EXPECT_EQ(a->metric, "p999");
  EXPECT_DOUBLE_EQ(a->threshold, 80);
  EXPECT_EQ(parse_assertion("receipt_p99.9<1s", why)->metric, "receipt_p999");
}

TEST(Assertions, NoValueHoldsForNoComparison) {
  std::string why;
  const double nothing = std::numeric_limits<double>::quiet_NaN();
  for (const char* text : {"p99<50ms", "p99>=0", "p99!=1", "error_rate==0"})
    EXPECT_FALSE(holds(*parse_assertion(text, why), nothing)) << text;
}
