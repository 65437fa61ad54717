#include <chat/common/utf8.hpp>

#include <gtest/gtest.h>

using chat::common::is_valid_utf8;
using chat::common::utf8_length;

TEST(Utf8, AcceptsAsciiAndMultibyte) {
  EXPECT_EQ(utf8_length(""), 0u);
  EXPECT_EQ(utf8_length("hello"), 5u);
  EXPECT_EQ(utf8_length("h\xC3\xA9llo"), 5u);          // é
  EXPECT_EQ(utf8_length("\xE2\x82\xAC"), 1u);          // €
  EXPECT_EQ(utf8_length("\xF0\x9F\x98\x80"), 1u);      // 😀
  EXPECT_EQ(utf8_length("\xF4\x8F\xBF\xBF"), 1u);      // U+10FFFF
}

TEST(Utf8, RejectsMalformed) {
  EXPECT_FALSE(is_valid_utf8("\x80"));                 // lone continuation
  EXPECT_FALSE(is_valid_utf8("\xC0\xAF"));             // overlong '/'
  EXPECT_FALSE(is_valid_utf8("\xE0\x80\xAF"));         // overlong 3-byte
  EXPECT_FALSE(is_valid_utf8("\xED\xA0\x80"));         // surrogate U+D800
  EXPECT_FALSE(is_valid_utf8("\xF4\x90\x80\x80"));     // above U+10FFFF
  EXPECT_FALSE(is_valid_utf8("\xE2\x82"));             // truncated
  EXPECT_FALSE(is_valid_utf8("ok\xFF"));
  EXPECT_FALSE(utf8_length("\xC3").has_value());
}

TEST(Utf8, EmbeddedNulIsValid) {
  EXPECT_TRUE(is_valid_utf8(std::string_view("a\0b", 3)));
}
