#include <chat/log/log.hpp>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

using chat::log::format;
using chat::log::level;

TEST(Log, JsonLineHasLevelTsMsgAndFields) {
  const std::string line = chat::log::render(format::json, level::warn, 1'763'726'400'123, "dependency \"down\"\n",
                                             {{"component", "redis"}, {"attempt", 3}, {"ok", false}});
  const auto j = nlohmann::json::parse(line);
  EXPECT_EQ(j["level"], "warn");
  EXPECT_EQ(j["ts"], "2025-11-21T12:00:00.123Z");
  EXPECT_EQ(j["msg"], "dependency \"down\"\n");
  EXPECT_EQ(j["component"], "redis");
  EXPECT_EQ(j["attempt"], 3);
  EXPECT_EQ(j["ok"], false);
  EXPECT_EQ(line.find('\n'), std::string::npos);
}

TEST(Log, ControlCharactersAreEscaped) {
  const std::string line = chat::log::render(format::json, level::info, 0, std::string("a\x01\x7f", 3), {});
  EXPECT_TRUE(nlohmann::json::accept(line));
  EXPECT_EQ(nlohmann::json::parse(line)["msg"], std::string("a\x01\x7f", 3));
}

TEST(Log, TextFormatIsOneLine) {
  const std::string line = chat::log::render(format::text, level::info, 0, "listening", {{"port", 8080}});
  EXPECT_EQ(line, "1970-01-01T00:00:00.000Z info listening port=8080");
}

TEST(Log, ParsesNames) {
  format f;
  level l;
  EXPECT_TRUE(chat::log::parse_format("text", f));
  EXPECT_EQ(f, format::text);
  EXPECT_FALSE(chat::log::parse_format("xml", f));
  EXPECT_TRUE(chat::log::parse_level("warn", l));
  EXPECT_EQ(l, level::warn);
  EXPECT_FALSE(chat::log::parse_level("loud", l));
}
