#include <chat/common/utf8.hpp>

#include <gtest/gtest.h>

using chat::common::is_valid_utf8;
using chat::common::utf8_length;

TEST(Utf8, AcceptsAsciiAndMultibyte) {
  EXPECT_EQ(utf8_length(""), 0u);
  EXPECT_EQ(utf8_length("hello"), 5u);
  EXPECT_EQ(utf8_length("h\xC3\xA9llo"), 5u);      // é
  EXPECT_EQ(utf8_length("\xE2\x82\xAC"), 1u);      // €
  EXPECT_EQ(utf8_length("\xF0\x9F\x98\x80"), 1u);  // 😀
  EXPECT_EQ(utf8_length("\xF4\x8F\xBF\xBF"), 1u);  // U+10FFFF
}

TEST(Utf8, RejectsMalformed) {
  EXPECT_FALSE(is_valid_utf8("\x80"));              // lone continuation
  EXPECT_FALSE(is_valid_utf8("\xC0\xAF"));          // overlong '/'
  EXPECT_FALSE(is_valid_utf8("\xE0\x80\xAF"));      // overlong 3-byte
  EXPECT_FALSE(is_valid_utf8("\xED\xA0\x80"));      // surrogate U+D800
  EXPECT_FALSE(is_valid_utf8("\xF4\x90\x80\x80"));  // above U+10FFFF
  EXPECT_FALSE(is_valid_utf8("\xE2\x82"));          // truncated
  EXPECT_FALSE(is_valid_utf8("ok\xFF"));
  EXPECT_FALSE(utf8_length("\xC3").has_value());
}

TEST(Utf8, EmbeddedNulIsValid) { EXPECT_TRUE(is_valid_utf8(std::string_view("a\0b", 3))); }

TEST(Utf8Decode, ReturnsLengthAndCodePoint) {
  using chat::common::utf8_decode;
  char32_t cp = 0;
  EXPECT_EQ(utf8_decode("A", 0, cp), 1u);
  EXPECT_EQ(cp, U'A');
  EXPECT_EQ(utf8_decode("x\xC3\xA9", 1, cp), 2u);
  EXPECT_EQ(cp, U'\u00E9');
  EXPECT_EQ(utf8_decode("\xE2\x80\xAE", 0, cp), 3u);  // U+202E, a bidi override
  EXPECT_EQ(cp, U'\u202E');
  EXPECT_EQ(utf8_decode("\xF4\x8F\xBF\xBF", 0, cp), 4u);
  EXPECT_EQ(cp, U'\U0010FFFF');
  EXPECT_EQ(utf8_decode(std::string_view("\0", 1), 0, cp), 1u);
  EXPECT_EQ(cp, U'\0');
}

TEST(Utf8Decode, MalformedGivesZeroAndKeepsTheCodePoint) {
  using chat::common::utf8_decode;
  for (const std::string_view bad :
       {std::string_view("\x80"), std::string_view("\xC1\xBF"), std::string_view("\xE0\x9F\xBF"),
        std::string_view("\xED\xBF\xBF"), std::string_view("\xF0\x8F\xBF\xBF"), std::string_view("\xF5\x80\x80\x80"),
        std::string_view("\xE2\x82"), std::string_view("\xC3\x28")}) {
    char32_t cp = U'?';
    EXPECT_EQ(utf8_decode(bad, 0, cp), 0u) << testing::PrintToString(std::string(bad));
    EXPECT_EQ(cp, U'?');
  }
  char32_t cp = 0;
  EXPECT_EQ(utf8_decode("ok\xF0\x9F\x98", 2, cp), 0u);  // truncated at the end of the input
}
