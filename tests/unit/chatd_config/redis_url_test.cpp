#include "redis/redis_client.hpp"

#include <gtest/gtest.h>

using chat::redis::parse_url;

TEST(RedisUrl, Parses) {
  auto ep = parse_url("redis://127.0.0.1:6380");
  ASSERT_TRUE(ep);
  EXPECT_EQ(ep->host, "127.0.0.1");
  EXPECT_EQ(ep->port, 6380);
  EXPECT_TRUE(ep->password.empty());
  EXPECT_EQ(ep->db, 0);

  ep = parse_url("redis://:s3cret@cache:6379/2");
  ASSERT_TRUE(ep);
  EXPECT_EQ(ep->host, "cache");
  EXPECT_EQ(ep->password, "s3cret");
  EXPECT_EQ(ep->db, 2);

  ep = parse_url("redis://localhost");
  ASSERT_TRUE(ep);
  EXPECT_EQ(ep->port, 6379);
}

TEST(RedisUrl, RejectsMalformed) {
  EXPECT_FALSE(parse_url("http://x:1"));
  EXPECT_FALSE(parse_url("redis://"));
  EXPECT_FALSE(parse_url("redis://h:0"));
  EXPECT_FALSE(parse_url("redis://h:99999"));
  EXPECT_FALSE(parse_url("redis://h:12ab"));
  EXPECT_FALSE(parse_url("redis://h:1/x"));
}
