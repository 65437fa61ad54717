#pragma once
// What a run produced, for people (summary table) and machines (--json, schema in
// docs/chatload.md; --hgrm; --html), and the value of each --assert metric.
#include "assertions.hpp"
#include "runner.hpp"

#include <nlohmann/json.hpp>

#include <ostream>
#include <string_view>
#include <vector>

namespace chatload {

// The metric's value: latency metrics in milliseconds, counts as counts.
double metric_value(const run_result& r, std::string_view metric);

struct assertion_outcome {
  const assertion* a = nullptr;
  double value = 0;
  bool ok = false;
};
std::vector<assertion_outcome> evaluate(const run_result& r, const std::vector<assertion>& asserts);

void print_summary(std::ostream& out, const run_options& o, const run_result& r);
nlohmann::json to_json(const run_options& o, const run_result& r, const std::vector<assertion_outcome>& outcomes);

// The per_second array of the report (one entry per second of the schedule).
nlohmann::json per_second_json(const interval_series& s);

}  // namespace chatload
