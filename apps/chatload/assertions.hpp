#pragma once
// --assert thresholds: "<metric><op><value>[unit]", e.g. "p99<50ms", "lost==0", "receipt_p99<=1s".
// Latency metrics (p50 p90 p99 p999 max = send→delivery; receipt_p50 … receipt_max =
// send→RECEIPT) take a value with unit ns, us, ms or s (no unit = ms); count metrics (lost
// duplicated reordered errors dropped_sends) take a plain integer.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace chatload {

enum class compare_op { lt, le, gt, ge, eq, ne };

struct assertion {
  std::string text;    // as given, for reports
  std::string metric;  // canonical metric name
  compare_op op = compare_op::lt;
  double threshold = 0;  // latency metrics: milliseconds; counts: the count
};

// Parses one assertion; on failure returns nullopt and a sentence in `why`.
std::optional<assertion> parse_assertion(std::string_view text, std::string& why);

bool is_latency_metric(std::string_view metric) noexcept;
// Every metric name an assertion may use.
const std::vector<std::string_view>& assertion_metrics();

bool holds(const assertion& a, double value) noexcept;

}  // namespace chatload
