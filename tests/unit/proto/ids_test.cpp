#include <chat/proto/ids.hpp>

#include <gtest/gtest.h>

using namespace chat::proto;

TEST(Ids, ParsesCanonicalPositiveIds) {
  EXPECT_EQ(parse_positive_id("1"), 1);
  EXPECT_EQ(parse_positive_id("1234567890"), 1234567890);
  EXPECT_EQ(parse_positive_id("9223372036854775807"), INT64_MAX);
  for (const char* bad : {"", "0", "00", "01", "-1", "+1", " 1", "1 ", "1.0", "1e3", "0x1", "9223372036854775808",
                          "18446744073709551616", "99999999999999999999", "12a"}) {
    EXPECT_EQ(parse_positive_id(bad), std::nullopt) << bad;
  }
}

TEST(Ids, MessageIdLayout) {
  static_assert(make_message_id(0, 0) == 0);
  static_assert(make_message_id(0, 5) == 5);
  static_assert(make_message_id(1, 0) == std::int64_t{1} << 40);
  static_assert(make_message_id(5, 123) == (std::int64_t{5} << 40 | 123));
  EXPECT_EQ(make_message_id(3, 1'000'000), 3'298'534'883'328 + 1'000'000);
}

TEST(Ids, MessageIdRoundTripsAtTheLimits) {
  for (const std::int32_t partition : {0, 1, 5, 1000, max_message_id_partition}) {
    for (const std::int64_t offset :
         {std::int64_t{0}, std::int64_t{1}, std::int64_t{123'456'789}, max_message_id_offset}) {
      ASSERT_TRUE(fits_message_id(partition, offset));
      const std::int64_t id = make_message_id(partition, offset);
      EXPECT_GE(id, 0);
      EXPECT_EQ(message_id_partition(id), partition);
      EXPECT_EQ(message_id_offset(id), offset);
    }
  }
  EXPECT_EQ(make_message_id(max_message_id_partition, max_message_id_offset), INT64_MAX);
}

TEST(Ids, MessageIdGrowsWithTheOffset) {
  EXPECT_LT(make_message_id(2, 10), make_message_id(2, 11));
  EXPECT_LT(make_message_id(2, max_message_id_offset), make_message_id(3, 0));
}

TEST(Ids, FitsRejectsOutOfRange) {
  EXPECT_FALSE(fits_message_id(-1, 0));
  EXPECT_FALSE(fits_message_id(max_message_id_partition + 1, 0));
  EXPECT_FALSE(fits_message_id(0, -1));
  EXPECT_FALSE(fits_message_id(0, max_message_id_offset + 1));
}
