// --metrics-host/--metrics-port/--metrics-token and --cors-allow-origin.
#include "config/config.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <string>
#include <vector>

namespace {

chat::chatd::parse_outcome parse(std::vector<std::string> args,
                                 std::vector<std::pair<std::string, std::string>> env = {}) {
  for (const char* name :
       {"CHATD_METRICS_HOST", "CHATD_METRICS_PORT", "CHATD_METRICS_TOKEN", "CHATD_CORS_ALLOW_ORIGIN"}) {
    unsetenv(name);
  }
  for (const auto& [k, v] : env) setenv(k.c_str(), v.c_str(), 1);
  std::vector<const char*> argv{"chatd", "--database-url=postgresql://u:p@127.0.0.1:5432/chat",
                                "--jwt-secret=0123456789abcdef0123456789abcdef"};
  for (const auto& a : args) argv.push_back(a.c_str());
  auto out = chat::chatd::parse_config(static_cast<int>(argv.size()), argv.data());
  for (const auto& [k, v] : env) unsetenv(k.c_str());
  return out;
}

TEST(ExposureConfig, MetricsListenOnLoopbackPort9090WithoutTokenAndNoCors) {
  const auto out = parse({});
  ASSERT_TRUE(out.cfg.has_value());
  EXPECT_EQ(out.cfg->metrics_host, "127.0.0.1");
  EXPECT_EQ(out.cfg->metrics_port, 9090);
  EXPECT_TRUE(out.cfg->metrics_token.empty());
  EXPECT_TRUE(out.cfg->cors_allow_origins.empty());
}

TEST(ExposureConfig, FlagsAndEnvironment) {
  const auto out = parse({"--metrics-port=0", "--metrics-host=0.0.0.0"}, {{"CHATD_METRICS_TOKEN", "s3cret"}});
  ASSERT_TRUE(out.cfg.has_value());
  EXPECT_EQ(out.cfg->metrics_port, 0);
  EXPECT_EQ(out.cfg->metrics_host, "0.0.0.0");
  EXPECT_EQ(out.cfg->metrics_token, "s3cret");
}

TEST(ExposureConfig, CorsOriginsAreRepeatableOrACommaListAndNormalized) {
  const auto out =
      parse({"--cors-allow-origin=https://Chat.Example.com/,http://localhost:5173", "--cors-allow-origin", "*"});
  ASSERT_TRUE(out.cfg.has_value());
  EXPECT_EQ(out.cfg->cors_allow_origins,
            (std::vector<std::string>{"https://chat.example.com", "http://localhost:5173", "*"}));
  const auto env = parse({}, {{"CHATD_CORS_ALLOW_ORIGIN", "https://a.example, https://b.example"}});
  ASSERT_TRUE(env.cfg.has_value());
  EXPECT_EQ(env.cfg->cors_allow_origins, (std::vector<std::string>{"https://a.example", "https://b.example"}));
}

TEST(ExposureConfig, AnOriginWithAPathOrNoSchemeIsRefused) {
  testing::internal::CaptureStderr();
  EXPECT_EQ(parse({"--cors-allow-origin=https://chat.example.com/app"}).exit_code, 2);
  EXPECT_EQ(parse({"--cors-allow-origin=chat.example.com"}).exit_code, 2);
  const auto err = testing::internal::GetCapturedStderr();
  EXPECT_NE(err.find("cors-allow-origin"), std::string::npos) << err;
}

}  // namespace
