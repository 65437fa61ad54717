#pragma once
// Helpers shared by the proto tests.
#include <chat/proto/error.hpp>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace chat::proto::test {

// Strings that a careless serializer gets wrong. Each is valid UTF-8.
inline std::vector<std::string> hostile_strings() {
  std::vector<std::string> out = {
      "",
      "plain",
      "\"quoted\"",
      "back\\slash",
      "\\\"",
      "\\u0041 is not an escape here",
      "</script><script>alert(1)</script>",
      "line\nbreak\r\ttab\b\f",
      "\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80 mixed \xE4\xB8\xAD\xE6\x96\x87",  // é € 😀 中文
      "\xE2\x80\xA8\xE2\x80\xA9",                                             // U+2028 U+2029
      "\x7F",
      std::string("nul\0inside", 10),
      std::string(10 * 1024, 'x'),
      std::string(10 * 1024, '"'),
  };
  std::string controls;
  for (int c = 0; c < 0x20; ++c) controls.push_back(static_cast<char>(c));
  out.push_back(controls);
  std::string big;
  while (big.size() < 10 * 1024) big += "\"\\\n\xF0\x9F\x98\x80\x01";
  out.push_back(big);
  return out;
}

// Parses `text` with nlohmann (a parser this project did not write).
inline nlohmann::json reparse(const std::string& text) {
  return nlohmann::json::parse(text);  // throws (failing the test) on invalid JSON
}

inline ::testing::AssertionResult fails_with(const validation_error& error, errc expected, std::string_view field) {
  if (!error) return ::testing::AssertionFailure() << "accepted, expected " << to_string(expected);
  if (error.code != expected || error.field != field) {
    return ::testing::AssertionFailure() << "got " << error.code.message() << " on '" << error.field << "' ("
                                         << error.message << "), expected " << to_string(expected) << " on '" << field
                                         << "'";
  }
  if (error.message.empty()) return ::testing::AssertionFailure() << "empty message";
  return ::testing::AssertionSuccess();
}

}  // namespace chat::proto::test
