#include <chat/auth/base64url.hpp>

#include <gtest/gtest.h>

#include <string>

using chat::auth::base64url_decode;
using chat::auth::base64url_encode;

TEST(Base64url, EncodesRfc4648Vectors) {
  // RFC 4648 §10 test vectors, with the padding removed.
  EXPECT_EQ(base64url_encode(""), "");
  EXPECT_EQ(base64url_encode("f"), "Zg");
  EXPECT_EQ(base64url_encode("fo"), "Zm8");
  EXPECT_EQ(base64url_encode("foo"), "Zm9v");
  EXPECT_EQ(base64url_encode("foob"), "Zm9vYg");
  EXPECT_EQ(base64url_encode("fooba"), "Zm9vYmE");
  EXPECT_EQ(base64url_encode("foobar"), "Zm9vYmFy");
}

TEST(Base64url, UsesTheUrlAlphabet) {
  EXPECT_EQ(base64url_encode("\xFB\xFF\xBF"), "-_-_");  // "+/+/" in standard base64
  EXPECT_EQ(base64url_decode("-_-_"), std::string("\xFB\xFF\xBF"));
}

TEST(Base64url, RoundTripsEveryLengthAndByte) {
  std::string bytes;
  for (int i = 0; i < 300; ++i) {
    ASSERT_EQ(base64url_decode(base64url_encode(bytes)), bytes) << "length " << i;
    bytes.push_back(static_cast<char>((i * 151 + 7) & 0xFF));
  }
}

TEST(Base64url, RejectsPaddingAndForeignCharacters) {
  for (const char* bad :
       {"Zg==", "Zm8=", "Zm9v=", "Zm+v", "Zm/v", "Zm9 v", "Zm9v\n", "Zm9v.", "Z", "Zm9vY", "Zm9vYmFyY"}) {
    EXPECT_FALSE(base64url_decode(bad).has_value()) << bad;
  }
  EXPECT_FALSE(base64url_decode(std::string_view("Zm9\0", 4)).has_value());
  EXPECT_FALSE(base64url_decode("Zm9v\xC3\xA9").has_value());
}

TEST(Base64url, RejectsNonCanonicalTrailingBits) {
  EXPECT_EQ(base64url_decode("Zg"), std::string("f"));
  EXPECT_FALSE(base64url_decode("Zh").has_value());  // same byte 'f', low bits set
  EXPECT_EQ(base64url_decode("Zm8"), std::string("fo"));
  EXPECT_FALSE(base64url_decode("Zm9").has_value());
}
