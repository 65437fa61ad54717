#include "compare.hpp"

#include <charconv>
#include <cmath>
#include <cstdio>

namespace chatload {

std::optional<double> parse_tolerance(std::string_view t) {
  bool percent = false;
  if (!t.empty() && t.back() == '%') {
    percent = true;
    t.remove_suffix(1);
  }
  double v = 0;
  const auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
  if (t.empty() || ec != std::errc{} || end != t.data() + t.size() || !std::isfinite(v) || v < 0) return std::nullopt;
  return percent ? v / 100.0 : v;
}

namespace {

const nlohmann::json* at(const nlohmann::json& j, std::initializer_list<const char*> path) {
  const nlohmann::json* p = &j;
  for (const char* k : path) {
    if (!p->is_object() || !p->contains(k)) return nullptr;
    p = &(*p)[k];
  }
  return p->is_number() ? p : nullptr;
}

struct metric_def {
  const char* name;
  std::initializer_list<const char*> path;
  const char* per;  // counts: divided by counts.<per> (a rate); nullptr = as is
  better direction;
  bool latency;
};

}  // namespace

std::optional<compare_result> compare_reports(const nlohmann::json& base, const nlohmann::json& next, double tol,
                                              double slack_ms, std::string& why) {
  for (const auto* r : {&base, &next}) {
    if (!r->is_object() || !r->contains("schema") || (*r)["schema"] != "chatload-report/1") {
      why = std::string(r == &base ? "BASE" : "NEW") + " is not a chatload-report/1";
      return std::nullopt;
    }
  }
  static const metric_def defs[] = {
      {"p50_ms", {"latency_ms", "delivery", "p50"}, nullptr, better::lower, true},
      {"p90_ms", {"latency_ms", "delivery", "p90"}, nullptr, better::lower, true},
      {"p99_ms", {"latency_ms", "delivery", "p99"}, nullptr, better::lower, true},
      {"p999_ms", {"latency_ms", "delivery", "p999"}, nullptr, better::lower, true},
      {"max_ms", {"latency_ms", "delivery", "max"}, nullptr, better::lower, true},
      {"receipt_p99_ms", {"latency_ms", "receipt", "p99"}, nullptr, better::lower, true},
      {"sent_per_s", {"throughput", "sent_per_s"}, nullptr, better::higher, false},
      {"delivered_per_s", {"throughput", "delivered_per_s"}, nullptr, better::higher, false},
      {"lost_rate", {"counts", "lost"}, "expected", better::lower, false},
      {"duplicated_rate", {"counts", "duplicated"}, "expected", better::lower, false},
      {"reordered_rate", {"counts", "reordered"}, "expected", better::lower, false},
      {"error_rate", {"counts", "errors"}, "planned", better::lower, false},
      {"dropped_rate", {"counts", "dropped_sends"}, "planned", better::lower, false},
  };
  compare_result out;
  for (const auto& d : defs) {
    double v[2];
    const nlohmann::json* reps[2] = {&base, &next};
    for (int i = 0; i < 2; ++i) {
      const auto* x = at(*reps[i], d.path);
      if (!x) {
        std::string p;
        for (const char* k : d.path) p += (p.empty() ? "" : ".") + std::string(k);
        why = std::string(i == 0 ? "BASE" : "NEW") + " lacks " + p;
        return std::nullopt;
      }
      v[i] = x->get<double>();
      if (d.per) {
        const auto* n = at(*reps[i], {"counts", d.per});
        const double denom = n ? n->get<double>() : 0;
        v[i] = denom > 0 ? v[i] / denom : 0;
      }
    }
    compare_row row{d.name, v[0], v[1], d.direction, false};
    const double worse = d.direction == better::lower ? v[1] - v[0] : v[0] - v[1];
    if (worse > 0) {
      if (d.per && v[0] == 0)
        row.regressed = true;
      else
        row.regressed = worse > tol * std::fabs(v[0]) && (!d.latency || worse > slack_ms);
    }
    out.regressed = out.regressed || row.regressed;
    out.rows.push_back(std::move(row));
  }
  for (const auto* r : {&base, &next}) {
    if (r->contains("validity") && (*r)["validity"].is_object() && (*r)["validity"].value("valid", true) == false) {
      out.invalid = true;
      out.notes.push_back(std::string(r == &base ? "BASE" : "NEW") + " is marked invalid (generator overloaded)");
    }
  }
  if (base.contains("config") && next.contains("config")) {
    for (const char* k : {"mode", "users", "rooms", "members", "rate", "duration_s", "message_bytes"}) {
      const auto& a = base["config"];
      const auto& b = next["config"];
      if (a.contains(k) && b.contains(k) && a[k] != b[k])
        out.notes.push_back(std::string("config ") + k + " differs: " + a[k].dump() + " vs " + b[k].dump());
    }
  }
  return out;
}

void print_comparison(std::ostream& out, const compare_result& r, double tol) {
  char line[200];
  std::snprintf(line, sizeof line, "%-16s %14s %14s %10s  %s\n", "metric", "base", "new", "change", "verdict");
  out << line;
  for (const auto& row : r.rows) {
    char change[32];
    if (row.base != 0)
      std::snprintf(change, sizeof change, "%+.1f%%", (row.next - row.base) / std::fabs(row.base) * 100);
    else if (row.next == 0)
      std::snprintf(change, sizeof change, "=");
    else
      std::snprintf(change, sizeof change, "new");
    const bool is_worse = row.direction == better::lower ? row.next > row.base : row.next < row.base;
    const bool is_better = row.direction == better::lower ? row.next < row.base : row.next > row.base;
    const char* verdict = row.regressed ? "REGRESSED"
                          : is_worse    ? "worse (within tolerance)"
                          : is_better   ? "better"
                                        : "same";
    std::snprintf(line, sizeof line, "%-16s %14.6g %14.6g %10s  %s\n", row.metric.c_str(), row.base, row.next, change,
                  verdict);
    out << line;
  }
  for (const auto& n : r.notes) out << "note: " << n << "\n";
  std::snprintf(line, sizeof line, "%s (tolerance %.1f%%)\n", r.regressed ? "NEW is worse than BASE" : "no regression",
                tol * 100);
  out << line;
}

}  // namespace chatload
