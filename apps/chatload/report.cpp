#include "report.hpp"

#include <cstdio>

namespace chatload {

namespace {
double ms(std::uint64_t us) { return static_cast<double>(us) / 1e3; }

nlohmann::json latency_json(const histogram& h) {
  return {{"count", h.count()},          {"min", ms(h.min())},
          {"mean", h.mean() / 1e3},      {"p50", ms(h.percentile(50))},
          {"p90", ms(h.percentile(90))}, {"p99", ms(h.percentile(99))},
          {"p999", ms(h.percentile(99.9))}, {"max", ms(h.max())}};
}

double latency_metric(const histogram& h, std::string_view m) {
  if (m == "p50") return ms(h.percentile(50));
  if (m == "p90") return ms(h.percentile(90));
  if (m == "p99") return ms(h.percentile(99));
  if (m == "p999") return ms(h.percentile(99.9));
  return ms(h.max());
}
}  // namespace

double metric_value(const run_result& r, std::string_view m) {
  if (m.starts_with("receipt_")) return latency_metric(r.receipt, m.substr(8));
  if (is_latency_metric(m)) return latency_metric(r.delivery, m);
  if (m == "lost") return static_cast<double>(r.lost);
  if (m == "duplicated") return static_cast<double>(r.duplicated);
  if (m == "reordered") return static_cast<double>(r.reordered);
  if (m == "errors") return static_cast<double>(r.errors);
  if (m == "dropped_sends") return static_cast<double>(r.dropped_sends);
  return 0;
}

std::vector<assertion_outcome> evaluate(const run_result& r, const std::vector<assertion>& asserts) {
  std::vector<assertion_outcome> out;
  for (const auto& a : asserts) {
    const double v = metric_value(r, a.metric);
    out.push_back({&a, v, holds(a, v)});
  }
  return out;
}

void print_summary(std::ostream& out, const run_options& o, const run_result& r) {
  char line[256];
  auto row = [&](const char* name, const histogram& h) {
    std::snprintf(line, sizeof line, "%-18s %9llu %9.2f %9.2f %9.2f %9.2f %9.2f\n", name,
                  static_cast<unsigned long long>(h.count()), ms(h.percentile(50)), ms(h.percentile(90)),
                  ms(h.percentile(99)), ms(h.percentile(99.9)), ms(h.max()));
    out << line;
  };
  std::snprintf(line, sizeof line, "chatload: %u users, %u rooms x %u members, %.0f msg/s for %.1f s, %zu-byte messages\n",
                o.users, o.rooms, o.members, o.rate, std::chrono::duration<double>(o.duration).count(), o.message_bytes);
  out << line;
  if (o.warmup.count() > 0) {
    std::snprintf(line, sizeof line, "(latency excludes the %.1f s warm-up; correctness counts include it)\n",
                  std::chrono::duration<double>(o.warmup).count());
    out << line;
  }
  std::snprintf(line, sizeof line, "%-18s %9s %9s %9s %9s %9s %9s\n", "latency (ms)", "count", "p50", "p90", "p99",
                "p99.9", "max");
  out << line;
  row("send->delivery", r.delivery);
  row("send->receipt", r.receipt);
  row("connect", r.connect);
  const double secs = r.elapsed_s > 0 ? r.elapsed_s : 1;
  std::snprintf(line, sizeof line,
                "sent %llu of %llu planned (dropped %llu, send errors %llu), receipts %llu\n"
                "delivered %llu of %llu expected: lost %llu, duplicated %llu, reordered %llu\n"
                "throughput: %.1f sent/s, %.1f delivered/s over %.1f s; errors %llu\n",
                static_cast<unsigned long long>(r.sent), static_cast<unsigned long long>(r.planned),
                static_cast<unsigned long long>(r.dropped_sends), static_cast<unsigned long long>(r.send_errors),
                static_cast<unsigned long long>(r.receipts), static_cast<unsigned long long>(r.delivered),
                static_cast<unsigned long long>(r.expected), static_cast<unsigned long long>(r.lost),
                static_cast<unsigned long long>(r.duplicated), static_cast<unsigned long long>(r.reordered),
                static_cast<double>(r.sent) / secs, static_cast<double>(r.delivered) / secs, secs,
                static_cast<unsigned long long>(r.errors));
  out << line;
  for (const auto& [k, v] : r.errors_by_kind) out << "  error " << k << ": " << v << "\n";
}

nlohmann::json to_json(const run_options& o, const run_result& r, const std::vector<assertion_outcome>& outcomes) {
  const double secs = r.elapsed_s > 0 ? r.elapsed_s : 1;
  nlohmann::json j;
  j["schema"] = "chatload-report/1";
  j["config"] = {{"url", chat::client::to_string(o.http)},
                 {"stomp_url", chat::client::to_string(o.stomp)},
                 {"users", o.users},
                 {"rooms", o.rooms},
                 {"members", o.members},
                 {"rate", o.rate},
                 {"duration_s", std::chrono::duration<double>(o.duration).count()},
                 {"warmup_s", std::chrono::duration<double>(o.warmup).count()},
                 {"drain_s", std::chrono::duration<double>(o.drain).count()},
                 {"message_bytes", o.message_bytes},
                 {"io_threads", o.io_threads}};
  j["elapsed_s"] = r.elapsed_s;
  j["sessions"] = r.sessions;
  j["counts"] = {{"planned", r.planned},       {"sent", r.sent},         {"dropped_sends", r.dropped_sends},
                 {"send_errors", r.send_errors}, {"receipts", r.receipts}, {"expected", r.expected},
                 {"delivered", r.delivered},   {"lost", r.lost},         {"duplicated", r.duplicated},
                 {"reordered", r.reordered},   {"errors", r.errors}};
  j["throughput"] = {{"sent_per_s", static_cast<double>(r.sent) / secs},
                     {"delivered_per_s", static_cast<double>(r.delivered) / secs}};
  j["latency_ms"] = {{"delivery", latency_json(r.delivery)},
                     {"receipt", latency_json(r.receipt)},
                     {"connect", latency_json(r.connect)}};
  j["errors"] = nlohmann::json::object();
  for (const auto& [k, v] : r.errors_by_kind) j["errors"][k] = v;
  j["timeline"] = nlohmann::json::array();
  for (const auto& p : r.timeline)
    j["timeline"].push_back({{"t", p.t}, {"sent", p.sent}, {"delivered", p.delivered}, {"receipts", p.receipts}});
  j["per_second"] = nlohmann::json::array();
  for (std::size_t i = 0; i < r.per_second.size(); ++i)
    j["per_second"].push_back({{"second", i},
                               {"delivered", r.per_second[i].delivered},
                               {"over_50ms", r.per_second[i].over_50ms},
                               {"max_ms", ms(r.per_second[i].max_us)}});
  j["assertions"] = nlohmann::json::array();
  for (const auto& a : outcomes)
    j["assertions"].push_back({{"assertion", a.a->text}, {"value", a.value}, {"ok", a.ok}});
  return j;
}

}  // namespace chatload
