// chat_http_requests_total{route,code} and chat_http_request_duration_seconds{route}.
#include "metrics/http_red.hpp"

#include <gtest/gtest.h>

#include <string>

namespace {

using chat::metrics::http_red;
using chat::metrics::registry;

bool has_line(const std::string& text, const std::string& line) { return text.find(line + "\n") != std::string::npos; }

TEST(HttpRed, CountsPerRoutePatternAndCode) {
  registry reg;
  http_red red(reg, "unmatched");
  red.add_route("/api/rooms/{id}/messages");
  red.observe("/api/rooms/{id}/messages", 200, 0.002);
  red.observe("/api/rooms/{id}/messages", 200, 0.004);
  red.observe("/api/rooms/{id}/messages", 404, 0.001);
  const auto text = reg.render();
  EXPECT_TRUE(has_line(text, R"(chat_http_requests_total{route="/api/rooms/{id}/messages",code="200"} 2)")) << text;
  EXPECT_TRUE(has_line(text, R"(chat_http_requests_total{route="/api/rooms/{id}/messages",code="404"} 1)")) << text;
  EXPECT_TRUE(has_line(text, R"(chat_http_request_duration_seconds_count{route="/api/rooms/{id}/messages"} 3)"))
      << text;
  EXPECT_TRUE(has_line(text, R"(chat_http_request_duration_seconds_sum{route="/api/rooms/{id}/messages"} 0.007)"))
      << text;
}

TEST(HttpRed, AnUnknownRouteNeverBecomesALabel) {
  registry reg;
  http_red red(reg, "unmatched");
  red.observe("/api/rooms/123456", 404, 0.001);
  red.observe("/etc/passwd", 404, 0.001);
  const auto text = reg.render();
  EXPECT_EQ(text.find("123456"), std::string::npos);
  EXPECT_EQ(text.find("passwd"), std::string::npos);
  EXPECT_TRUE(has_line(text, R"(chat_http_requests_total{route="unmatched",code="404"} 2)")) << text;
}

TEST(HttpRed, RegisteredRoutesShowBeforeTraffic) {
  registry reg;
  http_red red(reg, "unmatched");
  red.add_route("/healthz");
  const auto text = reg.render();
  EXPECT_TRUE(has_line(text, R"(chat_http_request_duration_seconds_count{route="/healthz"} 0)")) << text;
}

}  // namespace
