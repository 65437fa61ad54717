#pragma once
// --assert thresholds: "<metric><op><value>[unit]", e.g. "p99<50ms", "lost==0",
// "error_rate<0.1%", "receipt_p99<=1s".
// Latency metrics (p50 p90 p99 p999 max = send→delivery; receipt_p50 … receipt_max =
// send→RECEIPT; "p99.9" is accepted for p999) take a value with unit ns, us, ms or s (no unit =
// ms); count metrics (lost duplicated reordered errors dropped_sends sent delivered receipts
// unanswered disconnected receipted_lost receipted_duplicated receipted_reordered) take a
// plain number; rate metrics (error_rate dropped_rate per planned send, lost_rate
// duplicated_rate reordered_rate per expected delivery) take a fraction or a percentage ("%").
// A metric with nothing to measure (no latency sample, a rate with a zero denominator) has no
// value, and an assertion on it fails: a server that delivered nothing passes no latency gate.
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
bool is_rate_metric(std::string_view metric) noexcept;
// Every metric name an assertion may use.
const std::vector<std::string_view>& assertion_metrics();

// False for a NaN value (the metric had nothing to measure), whatever the comparison.
bool holds(const assertion& a, double value) noexcept;

}  // namespace chatload
