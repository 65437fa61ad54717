#include "hgrm.hpp"

#include <gtest/gtest.h>

#include <sstream>
#include <string>
#include <vector>

using namespace chatload;

TEST(Hgrm, EmptyHistogramHasNoPoints) { EXPECT_TRUE(percentile_distribution(histogram{}).empty()); }

TEST(Hgrm, PercentileLevelsFollowHdrHistogram) {
  histogram h;
  for (std::uint64_t v = 1; v <= 10000; ++v) h.record(v);
  const auto pts = percentile_distribution(h);
  ASSERT_GT(pts.size(), 20u);
  // HdrHistogram's first levels with 5 ticks per half distance: 0, 10, 20, 30, 40, 50, 55, 60, …
  const double first[] = {0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.775};
  for (std::size_t i = 0; i < std::size(first); ++i) EXPECT_NEAR(pts[i].percentile, first[i], 1e-12) << i;
  for (std::size_t i = 1; i < pts.size(); ++i) {
    EXPECT_GE(pts[i].percentile, pts[i - 1].percentile);
    EXPECT_GE(pts[i].value_us, pts[i - 1].value_us);
    EXPECT_GE(pts[i].total_count, pts[i - 1].total_count);
  }
  EXPECT_EQ(pts.back().percentile, 1.0);
  EXPECT_EQ(pts.back().value_us, 10000u);
  EXPECT_EQ(pts.back().total_count, 10000u);
  // Each point's value is where its percentile lies.
  for (const auto& p : pts) {
    const double at = p.percentile * 10000;
    EXPECT_GE(static_cast<double>(p.value_us) * 1.01 + 1, at) << p.percentile;
  }
}

TEST(Hgrm, TextFormat) {
  histogram h;
  for (std::uint64_t v : {100, 150, 200, 250}) h.record(v);  // exact buckets below 256 µs
  std::ostringstream out;
  write_hgrm(out, h);
  std::istringstream in(out.str());
  std::string line;
  std::getline(in, line);
  EXPECT_NE(line.find("Value"), std::string::npos);
  EXPECT_NE(line.find("1/(1-Percentile)"), std::string::npos);
  std::getline(in, line);
  EXPECT_EQ(line, "");
  std::vector<std::string> rows;
  while (std::getline(in, line) && !line.starts_with("#")) rows.push_back(line);
  ASSERT_GE(rows.size(), 2u);
  EXPECT_EQ(rows.front(), "       0.100 0.000000000000          1           1.00");
  EXPECT_EQ(rows.back(), "       0.250 1.000000000000          4");  // no 1/(1-p) at 100 %
  EXPECT_EQ(line, "#[Mean    =        0.175, StdDeviation   =        0.056]");
  std::getline(in, line);
  EXPECT_EQ(line, "#[Max     =        0.250, Total count    =            4]");
  std::getline(in, line);
  EXPECT_TRUE(line.starts_with("#[Buckets = "));
}
