#pragma once
// chatd's latency anatomy as chatload reports it (--server-metrics URL, repeatable; docs/chatload.md
// "Where the milliseconds go"): chat_stage_latency_seconds{stage} scraped from each node's /metrics
// when sending starts and again after the drain; the buckets' differences, summed over the
// nodes, give each stage's count and quantiles over the run, next to chatload's own end-to-end
// figures. Quantiles interpolate linearly inside a bucket, as Prometheus' histogram_quantile does.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace chatload {

// One histogram series: cumulative counts per upper bound (ascending, +Inf last as infinity).
struct stage_histogram {
  std::vector<double> bounds;
  std::vector<std::uint64_t> cumulative;
  double sum = 0;

  std::uint64_t count() const noexcept { return cumulative.empty() ? 0 : cumulative.back(); }
  // `after` minus `before` of the same series (before may be empty: a node with no traffic yet);
  // empty when the bounds differ.
  static stage_histogram delta(const stage_histogram& after, const stage_histogram& before);
  // Adds `other` (same bounds) into this one; takes its bounds when this one is empty.
  void merge(const stage_histogram& other);
  // q in [0, 1]; nullopt without observations. Within the +Inf bucket: the highest finite bound.
  std::optional<double> quantile(double q) const;
};

using stage_histograms = std::map<std::string, stage_histogram>;  // by stage label

// The chat_stage_latency_seconds series of one /metrics exposition (text format 0.0.4).
stage_histograms parse_stage_histograms(std::string_view exposition);

// GET <url> (a node's metrics URL, e.g. http://127.0.0.1:9090/metrics) -> its stage histograms;
// nullopt with `why` when it cannot be read.
std::optional<stage_histograms> scrape_stages(const std::string& url, std::string& why);

// Per stage over the run: count, p50, p99 (milliseconds).
struct stage_summary {
  std::string stage;
  std::uint64_t count = 0;
  double p50_ms = 0;
  double p99_ms = 0;
};

// The pipeline's order of the stages chatd exports; stages not in it follow, by name.
std::vector<stage_summary> summarize_stages(const stage_histograms& over_run);

}  // namespace chatload
