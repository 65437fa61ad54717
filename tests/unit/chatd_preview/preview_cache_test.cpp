// The per-URL cache of link previews: least recently used entries go first, entries expire,
// "this page gave no preview" is remembered like a preview. The clock is the test's.
#include "preview/preview_cache.hpp"

#include <gtest/gtest.h>

namespace chat::chatd::preview {
namespace {

using namespace std::chrono_literals;

proto::link_preview preview_of(const std::string& url) { return {url, "title of " + url, "", "", ""}; }

TEST(PreviewCache, RemembersPreviewsAndPagesWithoutOne) {
  preview_cache cache(10, 60s);
  const auto t0 = preview_cache::clock::time_point{} + 1h;
  EXPECT_FALSE(cache.find("https://a.example/", t0));
  cache.put("https://a.example/", preview_of("https://a.example/"), t0);
  cache.put("https://b.example/", std::nullopt, t0);
  const auto a = cache.find("https://a.example/", t0 + 1s);
  ASSERT_TRUE(a);
  ASSERT_TRUE(*a);
  EXPECT_EQ((*a)->title, "title of https://a.example/");
  const auto b = cache.find("https://b.example/", t0 + 1s);
  ASSERT_TRUE(b) << "a page without a preview is remembered too";
  EXPECT_FALSE(*b);
}

TEST(PreviewCache, EntriesExpire) {
  preview_cache cache(10, 60s);
  const auto t0 = preview_cache::clock::time_point{} + 1h;
  cache.put("u", preview_of("u"), t0);
  EXPECT_TRUE(cache.find("u", t0 + 59s));
  EXPECT_FALSE(cache.find("u", t0 + 60s));
  EXPECT_EQ(cache.size(), 0u);
  cache.put("u", preview_of("u"), t0 + 61s);  // put again: a fresh TTL
  EXPECT_TRUE(cache.find("u", t0 + 120s));
}

TEST(PreviewCache, TheLeastRecentlyUsedGoesFirst) {
  preview_cache cache(2, 60s);
  const auto t0 = preview_cache::clock::time_point{} + 1h;
  cache.put("a", preview_of("a"), t0);
  cache.put("b", preview_of("b"), t0);
  EXPECT_TRUE(cache.find("a", t0));  // a is now the most recently used
  cache.put("c", preview_of("c"), t0);
  EXPECT_EQ(cache.size(), 2u);
  EXPECT_TRUE(cache.find("a", t0));
  EXPECT_FALSE(cache.find("b", t0));
  EXPECT_TRUE(cache.find("c", t0));
  cache.put("a", std::nullopt, t0);  // replaced, not added
  EXPECT_EQ(cache.size(), 2u);
  EXPECT_FALSE(*cache.find("a", t0));
}

TEST(PreviewCache, CapacityZeroRemembersNothing) {
  preview_cache cache(0, 60s);
  const auto t0 = preview_cache::clock::time_point{} + 1h;
  cache.put("a", preview_of("a"), t0);
  EXPECT_FALSE(cache.find("a", t0));
  EXPECT_EQ(cache.size(), 0u);
}

}  // namespace
}  // namespace chat::chatd::preview
