// --server-metrics: chat_stage_latency_seconds parsed from an exposition, differenced between
// two scrapes, merged over nodes, and its quantiles (histogram_quantile's interpolation).
#include "server_stages.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>

namespace chatload {
namespace {

std::string exposition(std::uint64_t le5, std::uint64_t le10, std::uint64_t inf, double sum) {
  auto n = [](std::uint64_t v) { return std::to_string(v); };
  return "# HELP chat_stage_latency_seconds Seconds since createdAt\n"
         "# TYPE chat_stage_latency_seconds histogram\n"
         "chat_stage_latency_seconds_bucket{stage=\"node_received\",le=\"0.005\"} " +
         n(le5) +
         "\n"
         "chat_stage_latency_seconds_bucket{stage=\"node_received\",le=\"0.01\"} " +
         n(le10) +
         "\n"
         "chat_stage_latency_seconds_bucket{stage=\"node_received\",le=\"+Inf\"} " +
         n(inf) +
         "\n"
         "chat_stage_latency_seconds_sum{stage=\"node_received\"} " +
         std::to_string(sum) +
         "\n"
         "chat_stage_latency_seconds_count{stage=\"node_received\"} " +
         n(inf) +
         "\n"
         "chat_stage_latency_secondsX_bucket{stage=\"x\",le=\"1\"} 5\n"
         "chat_delivery_latency_seconds_bucket{le=\"0.005\"} 9\n";
}

TEST(ServerStages, ParsesOnlyTheStageFamily) {
  const auto h = parse_stage_histograms(exposition(2, 6, 8, 0.1));
  ASSERT_EQ(h.size(), 1u);
  const auto& s = h.at("node_received");
  EXPECT_EQ(s.bounds.size(), 3u);
  EXPECT_TRUE(std::isinf(s.bounds.back()));
  EXPECT_EQ(s.count(), 8u);
  EXPECT_DOUBLE_EQ(s.sum, 0.1);
}

TEST(ServerStages, DeltaMergeAndQuantiles) {
  const auto before = parse_stage_histograms(exposition(2, 6, 8, 0.1)).at("node_received");
  const auto after = parse_stage_histograms(exposition(12, 16, 18, 0.2)).at("node_received");
  auto d = stage_histogram::delta(after, before);
  EXPECT_EQ(d.count(), 10u);
  EXPECT_EQ(d.cumulative, (std::vector<std::uint64_t>{10, 10, 10}));
  // All ten in the first bucket: p50 interpolates to half its width.
  EXPECT_NEAR(*d.quantile(0.5), 0.0025, 1e-9);
  // A second node with ten in (5 ms, 10 ms]: merged, p99 lies in the second bucket.
  stage_histogram other = d;
  other.cumulative = {0, 10, 10};
  d.merge(other);
  EXPECT_EQ(d.count(), 20u);
  EXPECT_NEAR(*d.quantile(0.5), 0.005, 1e-9);
  EXPECT_NEAR(*d.quantile(0.99), 0.005 + 0.005 * (19.8 - 10) / 10, 1e-9);
  // Beyond the last finite bound: that bound.
  stage_histogram tail = d;
  tail.cumulative = {0, 0, 4};
  EXPECT_DOUBLE_EQ(*tail.quantile(0.5), 0.01);
  EXPECT_FALSE(stage_histogram{}.quantile(0.5));
  // A node with no series before the run: the whole series counts; different bounds: nothing.
  EXPECT_EQ(stage_histogram::delta(after, stage_histogram{}).count(), 18u);
  stage_histogram odd = before;
  odd.bounds[0] = 0.001;
  EXPECT_EQ(stage_histogram::delta(after, odd).count(), 0u);
}

TEST(ServerStages, SummaryInPipelineOrder) {
  stage_histograms h;
  for (const char* name : {"socket_written", "zzz_other", "kafka_acked", "node_received"}) {
    h[name] = stage_histogram{{0.01, std::numeric_limits<double>::infinity()}, {4, 4}, 0.02};
  }
  const auto s = summarize_stages(h);
  ASSERT_EQ(s.size(), 4u);
  EXPECT_EQ(s[0].stage, "kafka_acked");
  EXPECT_EQ(s[1].stage, "node_received");
  EXPECT_EQ(s[2].stage, "socket_written");
  EXPECT_EQ(s[3].stage, "zzz_other");
  EXPECT_EQ(s[0].count, 4u);
  EXPECT_NEAR(s[0].p50_ms, 5.0, 1e-9);
}

}  // namespace
}  // namespace chatload
