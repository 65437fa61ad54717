#include <chat/proto/json.hpp>
#include <chat/proto/rest.hpp>

#include "test_support.hpp"

using namespace chat::proto;
using chat::proto::test::hostile_strings;
using chat::proto::test::reparse;

namespace {
std::string json_quoted(std::string_view s) {
  std::string out;
  append_json_string(s, out);
  return out;
}
}  // namespace

TEST(JsonString, EscapesExactly) {
  EXPECT_EQ(json_quoted(""), R"("")");
  EXPECT_EQ(json_quoted("abc"), R"("abc")");
  EXPECT_EQ(json_quoted("a\"b"), R"("a\"b")");
  EXPECT_EQ(json_quoted("a\\b"), R"("a\\b")");
  EXPECT_EQ(json_quoted("\n\r\t\b\f"), R"("\n\r\t\b\f")");
  EXPECT_EQ(json_quoted(std::string("\0\x01\x1f", 3)), R"("\u0000\u0001\u001f")");
  EXPECT_EQ(json_quoted("/\x7F"), "\"/\x7F\"");
  EXPECT_EQ(json_quoted("\xC3\xA9\xF0\x9F\x98\x80"), "\"\xC3\xA9\xF0\x9F\x98\x80\"");  // UTF-8 kept
}

TEST(JsonString, AppendsToExistingContent) {
  std::string out = "x=";
  append_json_string("y", out);
  append_json_int(-42, out);
  EXPECT_EQ(out, "x=\"y\"-42");
}

TEST(JsonString, HostileStringsRoundTripThroughNlohmann) {
  for (const std::string& s : hostile_strings()) {
    const nlohmann::json parsed = reparse(json_quoted(s));
    ASSERT_TRUE(parsed.is_string());
    EXPECT_EQ(parsed.get<std::string>(), s) << "input of " << s.size() << " bytes";
  }
}

TEST(JsonString, InvalidUtf8BecomesReplacementCharacters) {
  const struct {
    std::string in;
    std::string out;
  } cases[] = {
      {"a\xFF"
       "b",
       "a\xEF\xBF\xBD"
       "b"},
      {"\xC3", "\xEF\xBF\xBD"},                                  // truncated
      {"\xC0\xAF", "\xEF\xBF\xBD\xEF\xBF\xBD"},                  // overlong
      {"\xED\xA0\x80", "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD"},  // surrogate
      {"\x80\"", "\xEF\xBF\xBD\""},
  };
  for (const auto& c : cases) {
    const std::string json = json_quoted(c.in);
    const nlohmann::json parsed = reparse(json);  // valid JSON despite the input
    EXPECT_EQ(parsed.get<std::string>(), c.out);
  }
}

TEST(JsonInt, ExtremeValues) {
  std::string out;
  append_json_int(INT64_MIN, out);
  out += ' ';
  append_json_int(INT64_MAX, out);
  out += ' ';
  append_json_int(0, out);
  EXPECT_EQ(out, "-9223372036854775808 9223372036854775807 0");
}

TEST(ErrorBody, HasTheSpecShape) {
  EXPECT_EQ(error_body("validation_error", "roomId is required"),
            R"({"error":{"code":"validation_error","message":"roomId is required"}})");
}

TEST(ErrorBody, EscapesHostileText) {
  for (const std::string& s : hostile_strings()) {
    const nlohmann::json body = reparse(error_body(s, s));
    EXPECT_EQ(body.at("error").at("code").get<std::string>(), s);
    EXPECT_EQ(body.at("error").at("message").get<std::string>(), s);
    EXPECT_EQ(body.size(), 1u);
    EXPECT_EQ(body.at("error").size(), 2u);
  }
}

TEST(ValidationError, WireCodesAndNames) {
  const validation_error ok;
  EXPECT_FALSE(ok);
  validation_error bad{make_error_code(errc::invalid_json), "", "x"};
  EXPECT_TRUE(bad);
  EXPECT_EQ(bad.wire_code(), "invalid_json");
  bad.code = errc::not_an_object;
  EXPECT_EQ(bad.wire_code(), "invalid_json");
  bad.code = errc::wrong_type;
  EXPECT_EQ(bad.wire_code(), "validation_error");
  EXPECT_EQ(to_string(errc::bad_length), "bad_length");
  EXPECT_STREQ(bad.code.category().name(), "chat.proto");
  EXPECT_EQ(bad.code.message(), "a field has the wrong type");
}
