#include "compare.hpp"

#include <gtest/gtest.h>

#include <sstream>

using namespace chatload;

namespace {
nlohmann::json report(double p99, double delivered_per_s, std::uint64_t lost, std::uint64_t errors = 0) {
  return {{"schema", "chatload-report/1"},
          {"config", {{"mode", "open"}, {"rate", 100.0}}},
          {"latency_ms",
           {{"delivery", {{"p50", 2.0}, {"p90", 3.0}, {"p99", p99}, {"p999", p99 * 2}, {"max", p99 * 3}}},
            {"receipt", {{"p99", 4.0}}}}},
          {"throughput", {{"sent_per_s", 100.0}, {"delivered_per_s", delivered_per_s}}},
          {"counts",
           {{"planned", 1000},
            {"expected", 10000},
            {"lost", lost},
            {"duplicated", 0},
            {"reordered", 0},
            {"errors", errors},
            {"dropped_sends", 0}}}};
}

const compare_row& row(const compare_result& r, std::string_view name) {
  for (const auto& x : r.rows)
    if (x.metric == name) return x;
  throw std::runtime_error("no row " + std::string(name));
}
}  // namespace

TEST(Compare, Tolerance) {
  EXPECT_DOUBLE_EQ(*parse_tolerance("10%"), 0.10);
  EXPECT_DOUBLE_EQ(*parse_tolerance("0.25"), 0.25);
  EXPECT_DOUBLE_EQ(*parse_tolerance("0%"), 0.0);
  EXPECT_FALSE(parse_tolerance("-5%"));
  EXPECT_FALSE(parse_tolerance("ten"));
  EXPECT_FALSE(parse_tolerance(""));
  EXPECT_FALSE(parse_tolerance("10%%"));
}

TEST(Compare, EqualReportsDoNotRegress) {
  std::string why;
  auto r = compare_reports(report(10, 1000, 0), report(10, 1000, 0), 0.10, 0, why);
  ASSERT_TRUE(r) << why;
  EXPECT_FALSE(r->regressed);
  EXPECT_FALSE(r->invalid);
  EXPECT_EQ(r->rows.size(), 13u);
}

TEST(Compare, LatencyBeyondToleranceRegresses) {
  std::string why;
  auto within = compare_reports(report(10, 1000, 0), report(10.9, 1000, 0), 0.10, 0, why);
  EXPECT_FALSE(within->regressed);
  auto beyond = compare_reports(report(10, 1000, 0), report(11.5, 1000, 0), 0.10, 0, why);
  EXPECT_TRUE(beyond->regressed);
  EXPECT_TRUE(row(*beyond, "p99_ms").regressed);
  EXPECT_FALSE(row(*beyond, "p50_ms").regressed);
  // An absolute slack keeps small latencies from flapping.
  auto slack = compare_reports(report(10, 1000, 0), report(11.5, 1000, 0), 0.10, 2.0, why);
  EXPECT_FALSE(row(*slack, "p99_ms").regressed);
  // Better is never a regression.
  auto better = compare_reports(report(10, 1000, 0), report(5, 2000, 0), 0.0, 0, why);
  EXPECT_FALSE(better->regressed);
}

TEST(Compare, ThroughputDropRegresses) {
  std::string why;
  auto r = compare_reports(report(10, 1000, 0), report(10, 850, 0), 0.10, 0, why);
  EXPECT_TRUE(row(*r, "delivered_per_s").regressed);
  EXPECT_TRUE(r->regressed);
}

TEST(Compare, AnyLossFromZeroRegresses) {
  std::string why;
  auto r = compare_reports(report(10, 1000, 0), report(10, 1000, 1), 0.50, 0, why);
  EXPECT_TRUE(row(*r, "lost_rate").regressed);
  EXPECT_DOUBLE_EQ(row(*r, "lost_rate").next, 1e-4);
  auto errs = compare_reports(report(10, 1000, 0, 0), report(10, 1000, 0, 3), 0.50, 0, why);
  EXPECT_TRUE(row(*errs, "error_rate").regressed);
}

TEST(Compare, InvalidAndMalformedReports) {
  std::string why;
  auto bad = report(10, 1000, 0);
  bad["validity"] = {{"valid", false}, {"reasons", {"cpu"}}};
  auto r = compare_reports(report(10, 1000, 0), bad, 0.1, 0, why);
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->invalid);
  EXPECT_FALSE(compare_reports(nlohmann::json{{"schema", "other"}}, report(1, 1, 0), 0.1, 0, why));
  EXPECT_NE(why.find("BASE"), std::string::npos);
  auto missing = report(10, 1000, 0);
  missing["latency_ms"]["delivery"].erase("p99");
  EXPECT_FALSE(compare_reports(report(10, 1000, 0), missing, 0.1, 0, why));
  EXPECT_NE(why.find("latency_ms.delivery.p99"), std::string::npos);
}

TEST(Compare, PrintsEveryMetricAndTheVerdict) {
  std::string why;
  auto r = compare_reports(report(10, 1000, 0), report(20, 1000, 0), 0.10, 0, why);
  std::ostringstream out;
  print_comparison(out, *r, 0.10);
  const auto text = out.str();
  for (const char* m : {"p50_ms", "p99_ms", "p999_ms", "max_ms", "delivered_per_s", "lost_rate", "duplicated_rate",
                        "reordered_rate", "error_rate"})
    EXPECT_NE(text.find(m), std::string::npos) << m;
  EXPECT_NE(text.find("REGRESSED"), std::string::npos);
  EXPECT_NE(text.find("+100.0%"), std::string::npos);
  EXPECT_NE(text.find("NEW is worse than BASE"), std::string::npos);
}
