#include "core/bytes.hpp"

#include <gtest/gtest.h>

#include <limits>
#include <string>

namespace dlt_replay {
namespace {

std::string bytes(std::initializer_list<int> values) {
  std::string out;
  for (int v : values) out += static_cast<char>(v);
  return out;
}

TEST(big_endian, decodes_four_byte_partitions) {
  EXPECT_EQ(decode_be_int32(bytes({0, 0, 0, 3})), 3);
  EXPECT_EQ(decode_be_int32(bytes({0, 0, 1, 0})), 256);
  EXPECT_EQ(decode_be_int32(bytes({0x7F, 0xFF, 0xFF, 0xFF})), std::numeric_limits<std::int32_t>::max());
  EXPECT_EQ(decode_be_int32(bytes({0xFF, 0xFF, 0xFF, 0xFF})), -1);
  EXPECT_EQ(decode_be_int32(bytes({0x80, 0, 0, 0})), std::numeric_limits<std::int32_t>::min());
}

TEST(big_endian, decodes_eight_byte_offsets_and_timestamps) {
  EXPECT_EQ(decode_be_int64(bytes({0, 0, 0, 0, 0, 0, 0x04, 0xD2})), 1234);
  // 1700000000000 ms = 0x0000018BCFE56800
  EXPECT_EQ(decode_be_int64(bytes({0, 0, 0x01, 0x8B, 0xCF, 0xE5, 0x68, 0})), 1700000000000);
  EXPECT_EQ(decode_be_int64(bytes({0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFE})), -2);
}

TEST(big_endian, rejects_other_lengths) {
  EXPECT_EQ(decode_be_int32(""), std::nullopt);
  EXPECT_EQ(decode_be_int32(bytes({0, 0, 3})), std::nullopt);
  EXPECT_EQ(decode_be_int32(bytes({0, 0, 0, 0, 0, 0, 0, 3})), std::nullopt);
  EXPECT_EQ(decode_be_int64(bytes({0, 0, 0, 3})), std::nullopt);
  EXPECT_EQ(decode_be_int64("3"), std::nullopt);
}

TEST(big_endian, encode_round_trips) {
  for (std::int32_t v : {0, 1, 255, 256, -1, std::numeric_limits<std::int32_t>::min()}) {
    EXPECT_EQ(encode_be_int32(v).size(), 4U);
    EXPECT_EQ(decode_be_int32(encode_be_int32(v)), v);
  }
  for (std::int64_t v : {std::int64_t{0}, std::int64_t{1700000000000}, std::numeric_limits<std::int64_t>::max(),
                         std::numeric_limits<std::int64_t>::min()}) {
    EXPECT_EQ(decode_be_int64(encode_be_int64(v)), v);
  }
}

TEST(decimal, strict) {
  EXPECT_EQ(parse_decimal("0"), 0);
  EXPECT_EQ(parse_decimal("1234"), 1234);
  EXPECT_EQ(parse_decimal("-5"), -5);
  EXPECT_EQ(parse_decimal("9223372036854775807"), std::numeric_limits<std::int64_t>::max());
  for (const char* bad : {"", "-", "+1", "01", " 1", "1 ", "1.0", "1e3", "9223372036854775808", "-0", "abc"}) {
    EXPECT_EQ(parse_decimal(bad), std::nullopt) << bad;
  }
}

TEST(base64, round_trips_every_length_and_byte) {
  std::string all;
  for (int i = 0; i < 256; ++i) all += static_cast<char>(i);
  for (std::size_t n = 0; n <= all.size(); n += 1) {
    const auto text = all.substr(0, n);
    EXPECT_EQ(decode_base64(encode_base64(text)), text) << n;
  }
  EXPECT_EQ(encode_base64(bytes({0, 0, 0, 3})), "AAAAAw==");
  EXPECT_EQ(encode_base64("foobar"), "Zm9vYmFy");
}

TEST(base64, rejects_non_canonical_input) {
  for (const char* bad : {"A", "AAA", "AAAAA===", "A===", "AA=A", "AAAA AAAA", "AAA*", "AB==", "AAB="}) {
    EXPECT_EQ(decode_base64(bad), std::nullopt) << bad;
  }
}

TEST(printable_text, excludes_binary_and_control_bytes) {
  EXPECT_TRUE(is_printable_text("chat.messages"));
  EXPECT_TRUE(is_printable_text("line\nnext\ttab \xC3\xA9"));
  EXPECT_FALSE(is_printable_text(bytes({0, 0, 0, 3})));
  EXPECT_FALSE(is_printable_text("\x1b[31m"));
  EXPECT_FALSE(is_printable_text("\xFF\xFE"));
}

}  // namespace
}  // namespace dlt_replay
