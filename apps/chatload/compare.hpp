#pragma once
// `chatload compare BASE.json NEW.json [--tolerance 10%]`: per-metric differences between two
// --json reports, and whether NEW is worse than BASE beyond the tolerance.
#include <nlohmann/json.hpp>

#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

namespace chatload {

enum class better { lower, higher };

struct compare_row {
  std::string metric;
  double base = 0;
  double next = 0;
  better direction = better::lower;
  bool regressed = false;
};

struct compare_result {
  std::vector<compare_row> rows;
  std::vector<std::string> notes;  // config differences, invalid runs
  bool regressed = false;          // some row regressed
  bool invalid = false;            // a report is marked invalid (validity.valid == false)
};

// "10%" → 0.10, "0.1" → 0.1; nullopt for negative or malformed text.
std::optional<double> parse_tolerance(std::string_view text);

// A row regresses when NEW is worse than BASE by more than `tolerance` relative to BASE
// (latencies also need more than `slack_ms` absolute); a rate of loss, duplicates, reordering
// or errors regresses from 0 on any increase. nullopt with `why` when a report is not a
// chatload-report/1 or lacks a metric.
std::optional<compare_result> compare_reports(const nlohmann::json& base, const nlohmann::json& next, double tolerance,
                                              double slack_ms, std::string& why);

void print_comparison(std::ostream& out, const compare_result& r, double tolerance);

}  // namespace chatload
