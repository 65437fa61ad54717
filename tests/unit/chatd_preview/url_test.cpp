// URLs of link previews: which URL of a message is previewed, how a URL and a redirect's
// Location read, and what is refused before anything else happens.
#include "preview/url.hpp"

#include <gtest/gtest.h>

#include <string>

namespace chat::chatd::preview {
namespace {

TEST(PreviewUrl, ReadsHttpAndHttpsUrls) {
  auto u = parse_url("HTTPS://Example.COM/a/b?c=d#frag");
  ASSERT_TRUE(u);
  EXPECT_TRUE(u->https);
  EXPECT_EQ(u->host, "example.com");
  EXPECT_EQ(u->port, 443);
  EXPECT_EQ(u->target, "/a/b?c=d");
  EXPECT_EQ(u->text(), "https://example.com/a/b?c=d");

  u = parse_url("http://example.com");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->port, 80);
  EXPECT_EQ(u->target, "/");
  EXPECT_EQ(u->authority(), "example.com");

  u = parse_url("http://example.com:8080?x");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->port, 8080);
  EXPECT_EQ(u->target, "/?x");
  EXPECT_EQ(u->authority(), "example.com:8080");

  u = parse_url("http://[::FFFF:127.0.0.1]:81/");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->host, "::ffff:127.0.0.1");
  EXPECT_EQ(u->authority(), "[::ffff:127.0.0.1]:81");

  u = parse_url("https://example.com/caf\xC3\xA9");  // an IRI path
  ASSERT_TRUE(u);
  EXPECT_EQ(u->target, "/caf%C3%A9");

  u = parse_url("http://example.com:/x");  // an empty port is the default
  ASSERT_TRUE(u);
  EXPECT_EQ(u->port, 80);
}

TEST(PreviewUrl, RefusesOtherSchemesAndWhatCouldHideAHost) {
  for (const char* other : {"ftp://example.com/", "file:///etc/passwd", "gopher://127.0.0.1:6379/_INFO",
                            "javascript://x", "ws://example.com/"}) {
    const auto u = parse_url(other);
    ASSERT_FALSE(u) << other;
    EXPECT_EQ(u.error(), refusal::scheme) << other;
  }
  for (const char* bad :
       {"http://user:pw@example.com/", "http://example.com@127.0.0.1/", "http:///path", "http://", "http://ex ample/",
        "http://example.com:0/", "http://example.com:65536/", "http://example.com:80a/", "http://[::1/",
        "http://[127.0.0.1]/", "http://[fe80::1%25eth0]/", "http://ex\xC3\xA4mple.com/", "http://%31%32%37.0.0.1/",
        "http://example.com/a b", "mailto:x@example.com", "example.com/page", "http://a..b/"}) {
    const auto u = parse_url(bad);
    ASSERT_FALSE(u) << bad;
    EXPECT_EQ(u.error(), refusal::bad_url) << bad;
  }
  EXPECT_FALSE(parse_url("http://example.com/" + std::string(max_url_bytes, 'a')));
}

TEST(PreviewUrl, ResolvesRedirectLocations) {
  const url base = *parse_url("https://example.com/dir/page?q=1");
  EXPECT_EQ(resolve_location(base, "https://other.example/x")->text(), "https://other.example/x");
  EXPECT_EQ(resolve_location(base, "//cdn.example/y")->text(), "https://cdn.example/y");
  EXPECT_EQ(resolve_location(base, "/root#top")->text(), "https://example.com/root");
  EXPECT_EQ(resolve_location(base, "next")->text(), "https://example.com/dir/next");
  EXPECT_EQ(resolve_location(base, "?page=2")->text(), "https://example.com/dir/page?page=2");
  EXPECT_EQ(resolve_location(base, "  http://127.0.0.1:8080/ ")->text(), "http://127.0.0.1:8080/");
  EXPECT_EQ(resolve_location(base, "file:///etc/passwd").error(), refusal::scheme);
  EXPECT_EQ(resolve_location(base, "").error(), refusal::bad_url);
  EXPECT_EQ(resolve_location(base, "http://a@b/").error(), refusal::bad_url);
}

TEST(PreviewUrl, FindsTheFirstHttpUrlOfAMessage) {
  EXPECT_EQ(first_url("look: https://example.com/a?b=c, and http://second.example/"), "https://example.com/a?b=c");
  EXPECT_EQ(first_url("HTTP://Example.com/x."), "HTTP://Example.com/x");
  EXPECT_EQ(first_url("(see https://en.wikipedia.org/wiki/Foo_(bar))"), "https://en.wikipedia.org/wiki/Foo_(bar)");
  EXPECT_EQ(first_url("(see https://example.com/x)"), "https://example.com/x");
  EXPECT_EQ(first_url("<https://example.com/in-brackets>"), "https://example.com/in-brackets");
  EXPECT_EQ(first_url("\"https://example.com/q\""), "https://example.com/q");
  EXPECT_EQ(first_url("a\nhttps://example.com/line\nb"), "https://example.com/line");
  EXPECT_EQ(first_url("xhttps://not.this/ but https://this.one/"), "https://this.one/");
  EXPECT_EQ(first_url("http:// then https://real.example/"), "https://real.example/");
  EXPECT_EQ(first_url("ftp://example.com/ only"), std::nullopt);
  EXPECT_EQ(first_url("no links here"), std::nullopt);
  EXPECT_EQ(first_url("www.example.com"), std::nullopt);
  EXPECT_EQ(first_url("https://" + std::string(max_url_bytes, 'a')), std::nullopt);
  EXPECT_EQ(first_url("https://exam\xC3\xA4ple.com/caf\xC3\xA9 x"), "https://exam\xC3\xA4ple.com/caf\xC3\xA9");
}

TEST(PreviewUrl, ARecordWithoutHttpCannotHoldAUrl) {
  EXPECT_TRUE(may_hold_url(R"({"content":"see HTTPS://example.com"})"));
  EXPECT_TRUE(may_hold_url("http"));
  EXPECT_FALSE(may_hold_url(R"({"content":"no link, just htt p and ftp://x"})"));
  EXPECT_FALSE(may_hold_url(""));
}

}  // namespace
}  // namespace chat::chatd::preview
