// The Range header of GET /api/files/{id} (api/byte_range.hpp).
#include "api/byte_range.hpp"

#include <gtest/gtest.h>

using namespace chat::chatd::api;

namespace {

range_request partial(std::uint64_t first, std::uint64_t last) { return {range_kind::partial, {first, last}}; }
const range_request whole{};
const range_request unsatisfiable{range_kind::unsatisfiable, {}};

}  // namespace

TEST(ByteRange, FirstToLast) {
  EXPECT_EQ(parse_range("bytes=0-0", 10), partial(0, 0));
  EXPECT_EQ(parse_range("bytes=0-9", 10), partial(0, 9));
  EXPECT_EQ(parse_range("bytes=2-5", 10), partial(2, 5));
  EXPECT_EQ(parse_range("bytes=9-9", 10), partial(9, 9));
  EXPECT_EQ(parse_range("bytes=3-1000", 10), partial(3, 9));  // clamped to the end
  EXPECT_EQ(parse_range("BYTES=1-2", 10), partial(1, 2));
  EXPECT_EQ(parse_range(" bytes = 1-2 ", 10), partial(1, 2));
  EXPECT_EQ(parse_range("bytes=2-5", 10).range.length(), 4u);
}

TEST(ByteRange, OpenEndedAndSuffix) {
  EXPECT_EQ(parse_range("bytes=4-", 10), partial(4, 9));
  EXPECT_EQ(parse_range("bytes=0-", 10), partial(0, 9));
  EXPECT_EQ(parse_range("bytes=-3", 10), partial(7, 9));
  EXPECT_EQ(parse_range("bytes=-10", 10), partial(0, 9));
  EXPECT_EQ(parse_range("bytes=-99", 10), partial(0, 9));  // more than the file: all of it
}

TEST(ByteRange, PastTheEndIsUnsatisfiable) {
  EXPECT_EQ(parse_range("bytes=10-", 10), unsatisfiable);
  EXPECT_EQ(parse_range("bytes=10-20", 10), unsatisfiable);
  EXPECT_EQ(parse_range("bytes=99-", 10), unsatisfiable);
  EXPECT_EQ(parse_range("bytes=-0", 10), unsatisfiable);
  EXPECT_EQ(parse_range("bytes=0-", 0), unsatisfiable);
  EXPECT_EQ(parse_range("bytes=-5", 0), unsatisfiable);
}

TEST(ByteRange, IgnoresWhatItDoesNotServe) {
  for (const char* header :
       {"", "bytes", "bytes=", "bytes=-", "items=0-1", "bytes=5-2", "bytes=a-b", "bytes=1-2x", "bytes=+1-2",
        "bytes=1--2", "bytes=0-1,4-5", "bytes= 1 - 2", "bytes=99999999999999999999-", "bytes=9223372036854775808-"}) {
    EXPECT_EQ(parse_range(header, 10), whole) << header;
  }
  // Large but valid positions still compare with the size.
  EXPECT_EQ(parse_range("bytes=9223372036854775807-", 10), unsatisfiable);
}
