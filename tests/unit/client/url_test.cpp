#include <chat/client/url.hpp>

#include <gtest/gtest.h>

namespace chat::client {
namespace {

url must_parse(std::string_view text) {
  std::string why;
  auto u = parse_url(text, &why);
  EXPECT_TRUE(u.has_value()) << text << ": " << why;
  return u.value_or(url{});
}

std::string refusal(std::string_view text) {
  std::string why;
  EXPECT_FALSE(parse_url(text, &why).has_value()) << text;
  return why;
}

TEST(Url, HttpWithPortAndNoPath) {
  const auto u = must_parse("http://127.0.0.1:8080");
  EXPECT_EQ(u.kind, scheme::http);
  EXPECT_EQ(u.host, "127.0.0.1");
  EXPECT_EQ(u.port, 8080);
  EXPECT_EQ(u.path, "");
}

TEST(Url, DefaultPortsPerScheme) {
  EXPECT_EQ(must_parse("http://chat.example.com").port, 80);
  EXPECT_EQ(must_parse("ws://chat.example.com/ws").port, 80);
  EXPECT_EQ(must_parse("tcp://chat.example.com").port, 61613);
  EXPECT_EQ(must_parse("stomp://chat.example.com").port, 61613);
}

TEST(Url, StompSchemeIsTcp) { EXPECT_EQ(must_parse("stomp://h:1").kind, scheme::tcp); }

TEST(Url, SchemeIsCaseInsensitive) { EXPECT_EQ(must_parse("HTTP://h:1").kind, scheme::http); }

TEST(Url, HttpBasePathLosesTrailingSlashes) {
  EXPECT_EQ(must_parse("http://h:1/").path, "");
  EXPECT_EQ(must_parse("http://h:1/chat/").path, "/chat");
}

TEST(Url, WebSocketTargetKeepsPathAndQuery) {
  EXPECT_EQ(must_parse("ws://h:1/ws").path, "/ws");
  EXPECT_EQ(must_parse("ws://h:1").path, "/");
  EXPECT_EQ(must_parse("ws://h:1/ws?x=1").path, "/ws?x=1");
  EXPECT_EQ(must_parse("ws://h:1?x=1").path, "/?x=1");
  EXPECT_EQ(must_parse("ws://h:1/ws#frag").path, "/ws");
}

TEST(Url, Ipv6Literal) {
  const auto u = must_parse("ws://[::1]:8080/ws");
  EXPECT_EQ(u.host, "::1");
  EXPECT_EQ(u.port, 8080);
  EXPECT_EQ(host_port(u), "[::1]:8080");
  EXPECT_EQ(to_string(u), "ws://[::1]:8080/ws");
}

TEST(Url, RefusesTlsWithAClearReason) {
  EXPECT_NE(refusal("https://h").find("TLS"), std::string::npos);
  EXPECT_NE(refusal("wss://h/ws").find("TLS"), std::string::npos);
}

TEST(Url, RefusesBadInput) {
  refusal("");
  refusal("127.0.0.1:8080");  // no scheme
  refusal("ftp://h");
  refusal("http://");
  refusal("http://:80");
  refusal("http://h:0");
  refusal("http://h:65536");
  refusal("http://h:8o");
  refusal("http://h:");
  refusal("http://user@h");
  refusal("http://h h");
  refusal("http://[::1");
  refusal("http://[zz]:1");
  refusal("http://h/x?y=1");  // a base URL has no query
  refusal("tcp://h:1/path");
  refusal("ws://h/a b");
}

TEST(Url, WhyIsOptional) { EXPECT_FALSE(parse_url("nope").has_value()); }

TEST(Url, WebSocketUrlForRestBase) {
  const auto ws = websocket_url_for(must_parse("http://h:8080"));
  EXPECT_EQ(to_string(ws), "ws://h:8080/ws");
  EXPECT_EQ(to_string(websocket_url_for(must_parse("http://h:8080/chat"))), "ws://h:8080/chat/ws");
}

TEST(Url, ToStringRoundTrips) {
  for (const char* text : {"http://h:8080", "ws://h:80/ws", "tcp://10.0.0.1:61613", "http://h:1/base"}) {
    EXPECT_EQ(to_string(must_parse(text)), text);
  }
}

}  // namespace
}  // namespace chat::client
