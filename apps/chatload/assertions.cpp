#include "assertions.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>

namespace chatload {

const std::vector<std::string_view>& assertion_metrics() {
  static const std::vector<std::string_view> names{"p50",
                                                   "p90",
                                                   "p99",
                                                   "p999",
                                                   "max",
                                                   "receipt_p50",
                                                   "receipt_p90",
                                                   "receipt_p99",
                                                   "receipt_p999",
                                                   "receipt_max",
                                                   "lost",
                                                   "duplicated",
                                                   "reordered",
                                                   "errors",
                                                   "dropped_sends",
                                                   "sent",
                                                   "delivered",
                                                   "receipts",
                                                   "error_rate",
                                                   "dropped_rate",
                                                   "lost_rate",
                                                   "duplicated_rate",
                                                   "reordered_rate",
                                                   "unanswered",
                                                   "disconnected",
                                                   "receipted_lost",
                                                   "receipted_duplicated",
                                                   "receipted_reordered",
                                                   "reconnects",
                                                   "reconnects_failed",
                                                   "recovery_truncations"};
  return names;
}

bool is_rate_metric(std::string_view m) noexcept { return m.ends_with("_rate"); }

bool is_latency_metric(std::string_view m) noexcept {
  return m == "p50" || m == "p90" || m == "p99" || m == "p999" || m == "max" || m.starts_with("receipt_");
}

namespace {
std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}
}  // namespace

std::optional<assertion> parse_assertion(std::string_view text, std::string& why) {
  const auto op_pos = text.find_first_of("<>=!");
  if (op_pos == std::string_view::npos) {
    why = "assertion '" + std::string(text) + "' has no comparison (<, <=, >, >=, ==, !=)";
    return std::nullopt;
  }
  assertion a;
  a.text = std::string(trim(text));
  a.metric = std::string(trim(text.substr(0, op_pos)));
  // "p99.9" is how the summary table and most people write it.
  if (a.metric == "p99.9")
    a.metric = "p999";
  else if (a.metric == "receipt_p99.9")
    a.metric = "receipt_p999";
  std::string_view rest = text.substr(op_pos);
  static constexpr std::pair<std::string_view, compare_op> ops[] = {{"<=", compare_op::le}, {">=", compare_op::ge},
                                                                    {"==", compare_op::eq}, {"!=", compare_op::ne},
                                                                    {"<", compare_op::lt},  {">", compare_op::gt}};
  bool found = false;
  for (const auto& [tok, op] : ops) {
    if (rest.starts_with(tok)) {
      a.op = op;
      rest.remove_prefix(tok.size());
      found = true;
      break;
    }
  }
  if (!found) {
    why = "assertion '" + std::string(text) + "': unknown comparison";
    return std::nullopt;
  }
  const auto& names = assertion_metrics();
  if (std::find(names.begin(), names.end(), a.metric) == names.end()) {
    why = "assertion '" + std::string(text) + "': unknown metric '" + a.metric + "' (known:";
    for (auto n : names) why += " " + std::string(n);
    why += ")";
    return std::nullopt;
  }
  rest = trim(rest);
  double value = 0;
  const auto [end, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), value);
  if (ec != std::errc{} || !std::isfinite(value)) {
    why = "assertion '" + std::string(text) + "': '" + std::string(rest) + "' is not a number";
    return std::nullopt;
  }
  const std::string_view unit = trim(std::string_view(end, static_cast<std::size_t>(rest.data() + rest.size() - end)));
  if (is_latency_metric(a.metric)) {
    if (unit.empty() || unit == "ms")
      a.threshold = value;
    else if (unit == "s")
      a.threshold = value * 1e3;
    else if (unit == "us" || unit == "µs")
      a.threshold = value / 1e3;
    else if (unit == "ns")
      a.threshold = value / 1e6;
    else {
      why = "assertion '" + std::string(text) + "': unknown unit '" + std::string(unit) + "' (ns, us, ms, s)";
      return std::nullopt;
    }
  } else if (is_rate_metric(a.metric)) {
    if (unit.empty())
      a.threshold = value;
    else if (unit == "%")
      a.threshold = value / 100;
    else {
      why = "assertion '" + std::string(text) + "': " + a.metric + " is a fraction (0.001) or a percentage (0.1%)";
      return std::nullopt;
    }
  } else {
    if (!unit.empty()) {
      why = "assertion '" + std::string(text) + "': " + a.metric + " is a count and takes no unit";
      return std::nullopt;
    }
    a.threshold = value;
  }
  return a;
}

bool holds(const assertion& a, double v) noexcept {
  if (std::isnan(v)) return false;
  switch (a.op) {
    case compare_op::lt: return v < a.threshold;
    case compare_op::le: return v <= a.threshold;
    case compare_op::gt: return v > a.threshold;
    case compare_op::ge: return v >= a.threshold;
    case compare_op::eq: return v == a.threshold;
    case compare_op::ne: return v != a.threshold;
  }
  return false;
}

}  // namespace chatload
