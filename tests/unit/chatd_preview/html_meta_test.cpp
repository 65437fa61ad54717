// The page reader of link previews: Open Graph first, then <title> and <meta name=description>,
// entities decoded, hostile markup tolerated, lengths bounded.
#include "preview/html_meta.hpp"

#include <gtest/gtest.h>

#include <string>

namespace chat::chatd::preview {
namespace {

const url page = *parse_url("https://news.example/articles/42");

TEST(HtmlMeta, ReadsOpenGraphTags) {
  const auto m = read_page_meta(R"(<!DOCTYPE html><html><head>
    <meta charset="utf-8">
    <title>Fallback title</title>
    <meta property="og:title" content="The &quot;real&quot; title &amp; more">
    <META PROPERTY='og:description' CONTENT='Line one
        line two'>
    <meta property=og:image content=/img/cover.png>
    <meta property="og:site_name" content="News &#8211; Example &#x1F4F0;">
    <meta name="description" content="ignored: og:description wins">
    </head><body><meta property="og:title" content="in the body: ignored"></body></html>)");
  EXPECT_EQ(m.title, "The \"real\" title & more");
  EXPECT_EQ(m.description, "Line one line two");
  EXPECT_EQ(m.image, "/img/cover.png");
  EXPECT_EQ(m.site_name, "News \xE2\x80\x93 Example \xF0\x9F\x93\xB0");

  const auto p = make_preview("https://news.example/articles/42", page, m);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->url, "https://news.example/articles/42");
  EXPECT_EQ(p->title, m.title);
  EXPECT_EQ(p->image_url, "https://news.example/img/cover.png");
  EXPECT_FALSE(proto::check_link_preview(*p));
}

TEST(HtmlMeta, FallsBackToTitleAndDescription) {
  const auto m = read_page_meta(
      "<html><head><TITLE>  Plain   &lt;page&gt;\n title </TITLE>"
      "<meta name=\"Description\" content=\"What it is about\"></head>");
  EXPECT_EQ(m.title, "Plain <page> title");
  EXPECT_EQ(m.description, "What it is about");
  EXPECT_EQ(m.image, "");
  EXPECT_EQ(m.site_name, "");
  const auto twitter = read_page_meta(
      R"(<meta name="twitter:title" content="Tweet title"><meta name="twitter:image" content="https://img.example/t.jpg">)");
  EXPECT_EQ(twitter.title, "Tweet title");
  EXPECT_EQ(twitter.image, "https://img.example/t.jpg");
}

TEST(HtmlMeta, IgnoresScriptsCommentsAndTheBody) {
  const auto m = read_page_meta(
      "<head><script>var s = '<title>not this</title><meta property=\"og:title\" content=\"nor this\">';</script>"
      "<!-- <title>commented</title> -->"
      "<style>title { color: red }</style>"
      "<title>This one</title></head>"
      "<body><title>too late</title>");
  EXPECT_EQ(m.title, "This one");
}

TEST(HtmlMeta, SurvivesBrokenMarkup) {
  for (const char* html : {"", "<", "<<<>>>", "<meta", "<meta content=", "<meta content=\"unterminated",
                           "<title>never closed", "<!-- never closed", "<script>never closed", "&#xFFFFFFFFF;",
                           "<title>&#0;&#xD800;&#1114112;&bogus;&amp</title>"}) {
    const auto m = read_page_meta(html);
    EXPECT_TRUE(m.title.size() < 64) << html;
  }
  const auto m = read_page_meta("<title>&#0;&#xD800;&#1114112;&bogus;&amp</title>");
  EXPECT_EQ(m.title, "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD&bogus;&amp");
}

TEST(HtmlMeta, CleansWhatCouldSpoofOrBreakTheClient) {
  const auto m = read_page_meta(
      "<title>evil\xE2\x80\xAEgnp.exe\x01\x7F \xFF bad</title>"
      "<meta name=description content=\"a&#x202E;b&#8203;c&#10;d\">");
  EXPECT_EQ(m.title, "evilgnp.exe \xEF\xBF\xBD bad");
  EXPECT_EQ(m.description, "abc d");
}

TEST(HtmlMeta, ConvertsLatin1Pages) {
  const std::string html = "<title>Caf\xE9 cr\xE8me</title>";
  EXPECT_EQ(read_page_meta(html, "ISO-8859-1").title, "Caf\xC3\xA9 cr\xC3\xA8me");
  EXPECT_EQ(read_page_meta("<meta charset=windows-1252>" + html).title, "Caf\xC3\xA9 cr\xC3\xA8me");
  EXPECT_EQ(read_page_meta(html, "utf-8").title, "Caf\xEF\xBF\xBD cr\xEF\xBF\xBDme");
}

TEST(HtmlMeta, BoundsEveryFieldAndKeepsOnlyHttpImages) {
  page_meta m;
  m.title = std::string(500, 'x');
  m.description = std::string(3000, 'y');
  m.site_name = std::string(200, 'z');
  m.image = "javascript:alert(1)";
  auto p = make_preview("https://news.example/a", page, m);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->title, std::string(299, 'x') + "\xE2\x80\xA6");
  EXPECT_EQ(p->description.size(), 999u + 3);
  EXPECT_EQ(p->site_name.size(), 99u + 3);
  EXPECT_EQ(p->image_url, "");
  EXPECT_FALSE(proto::check_link_preview(*p));

  m.title = std::string(299, 'x') + "\xC3\xA9\xC3\xA9";  // 301 code points, the cut inside none of them
  p = make_preview("https://news.example/a", page, m);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->title, std::string(299, 'x') + "\xE2\x80\xA6");
  m.title = std::string(300, 'x');  // exactly the limit: kept whole
  EXPECT_EQ(make_preview("https://news.example/a", page, m)->title, m.title);

  m.image = "data:image/png;base64,AAAA";
  EXPECT_EQ(make_preview("https://news.example/a", page, m)->image_url, "");
  m.image = "//cdn.example/i.png";
  EXPECT_EQ(make_preview("https://news.example/a", page, m)->image_url, "https://cdn.example/i.png");
}

TEST(HtmlMeta, NothingToShowIsNoPreview) {
  EXPECT_FALSE(make_preview("https://news.example/a", page, read_page_meta("<html><head></head><body>hi</body>")));
  page_meta only_image;
  only_image.image = "https://img.example/a.png";
  EXPECT_FALSE(make_preview("https://news.example/a", page, only_image));
}

TEST(HtmlMeta, FindsTheEndOfTheHead) {
  EXPECT_EQ(head_end("<head><title>x</title>"), std::nullopt);
  const std::string html = "<head><title>x</title></HEAD >rest";
  EXPECT_EQ(head_end(html), html.find("rest"));
  EXPECT_EQ(head_end("<title>x</title><body class=a>"), 30u);
}

}  // namespace
}  // namespace chat::chatd::preview
