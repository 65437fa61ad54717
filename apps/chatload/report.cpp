#include "report.hpp"

#include "hgrm.hpp"

#include <cmath>
#include <cstdio>
#include <limits>

namespace chatload {

namespace {
double ms(std::uint64_t us) { return static_cast<double>(us) / 1e3; }

template <class H>
nlohmann::json latency_json(const H& h) {
  return {{"count", h.count()},
          {"min", ms(h.min())},
          {"mean", h.mean() / 1e3},
          {"p50", ms(h.percentile(50))},
          {"p90", ms(h.percentile(90))},
          {"p99", ms(h.percentile(99))},
          {"p999", ms(h.percentile(99.9))},
          {"max", ms(h.max())}};
}

double latency_metric(const histogram& h, std::string_view m) {
  if (h.count() == 0) return std::numeric_limits<double>::quiet_NaN();
  if (m == "p50") return ms(h.percentile(50));
  if (m == "p90") return ms(h.percentile(90));
  if (m == "p99") return ms(h.percentile(99));
  if (m == "p999") return ms(h.percentile(99.9));
  return ms(h.max());
}

const char* model_name(load_model m) {
  switch (m) {
    case load_model::open: return "open";
    case load_model::sessions: return "sessions";
  }
  return "?";
}

double per(std::uint64_t n, std::uint64_t denominator) {
  return denominator == 0 ? std::numeric_limits<double>::quiet_NaN()
                          : static_cast<double>(n) / static_cast<double>(denominator);
}

nlohmann::json optional_json(const std::optional<double>& v) {
  return v ? nlohmann::json(*v) : nlohmann::json(nullptr);
}

nlohmann::json phases_config_json(const run_options& o) {
  auto a = nlohmann::json::array();
  for (const auto& p : o.phases) a.push_back({{"rate", p.rate}, {"seconds", p.seconds}});
  return a;
}

// RECEIPTs and deliveries that arrived during `seconds`, per second.
nlohmann::json goodput_json(std::uint64_t receipted, std::uint64_t deliveries, double seconds, std::uint32_t members) {
  const double s = seconds > 0 ? seconds : 1;
  return {{"window_s", seconds},
          {"receipted_per_s", static_cast<double>(receipted) / s},
          {"delivered_per_s", static_cast<double>(deliveries) / s},
          {"delivered_messages_per_s", static_cast<double>(deliveries) / s / (members ? members : 1)}};
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
  if (m == "sent") return static_cast<double>(r.sent);
  if (m == "delivered") return static_cast<double>(r.delivered);
  if (m == "receipts") return static_cast<double>(r.receipts);
  if (m == "unanswered") return static_cast<double>(r.answers.count(send_outcome::pending));
  if (m == "disconnected") return static_cast<double>(r.sessions_disconnected);
  if (m == "reconnects") return static_cast<double>(r.churn.reconnects);
  if (m == "reconnects_failed") return static_cast<double>(r.churn.failed);
  if (m == "recovery_truncations") return static_cast<double>(r.churn.truncations);
  if (m == "receipted_lost") return static_cast<double>(r.answers.receipted_lost);
  if (m == "receipted_duplicated") return static_cast<double>(r.answers.receipted_duplicated);
  if (m == "receipted_reordered") return static_cast<double>(r.answers.receipted_reordered);
  if (m == "error_rate") return per(r.errors, r.planned);
  if (m == "dropped_rate") return per(r.dropped_sends, r.planned);
  if (m == "lost_rate") return per(r.lost, r.expected);
  if (m == "duplicated_rate") return per(r.duplicated, r.expected);
  if (m == "reordered_rate") return per(r.reordered, r.expected);
  return std::numeric_limits<double>::quiet_NaN();
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
  char line[512];
  auto row = [&](const char* name, const histogram& h) {
    std::snprintf(line, sizeof line, "%-18s %9llu %9.2f %9.2f %9.2f %9.2f %9.2f\n", name,
                  static_cast<unsigned long long>(h.count()), ms(h.percentile(50)), ms(h.percentile(90)),
                  ms(h.percentile(99)), ms(h.percentile(99.9)), ms(h.max()));
    out << line;
  };
  if (o.model == load_model::open) {
    std::snprintf(line, sizeof line,
                  "chatload%s: %u users, %u rooms x %u members, open model, %.0f msg/s for %.1f s (ramp-up %.1f s), "
                  "%zu-byte messages\n",
                  o.generic ? " (generic STOMP)" : "", o.users, o.rooms, o.members, o.rate,
                  std::chrono::duration<double>(o.duration).count(), std::chrono::duration<double>(o.ramp_up).count(),
                  o.message_bytes);
  } else {
    std::snprintf(line, sizeof line,
                  "chatload%s: %u users, %u rooms x %u members, sessions model (think %lld ms) for %.1f s (ramp-up "
                  "%.1f s), %zu-byte messages\n",
                  o.generic ? " (generic STOMP)" : "", o.users, o.rooms, o.members,
                  static_cast<long long>(o.think.count()), std::chrono::duration<double>(o.duration).count(),
                  std::chrono::duration<double>(o.ramp_up).count(), o.message_bytes);
  }
  out << line;
  out << "set-up: " << r.setup_source << "\n";
  if (o.warmup.count() > 0 || o.ramp_up.count() > 0) {
    std::snprintf(line, sizeof line,
                  "(latency excludes the %.1f s ramp-up and %.1f s warm-up; correctness counts include them)\n",
                  std::chrono::duration<double>(o.ramp_up).count(), std::chrono::duration<double>(o.warmup).count());
    out << line;
  }
  std::snprintf(line, sizeof line, "%-18s %9s %9s %9s %9s %9s %9s\n", "latency (ms)", "count", "p50", "p90", "p99",
                "p99.9", "max");
  out << line;
  row("send->delivery", r.delivery);
  row("send->receipt", r.receipt);
  row("connect", r.connect);
  row("subscribe", r.subscribe);
  if (r.churn.rate > 0) row("reconnect", r.churn.reconnect);
  row("generator lag", r.generator.send_lag);
  const double secs = r.elapsed_s > 0 ? r.elapsed_s : 1;
  std::snprintf(line, sizeof line,
                "sent %llu of %llu planned (dropped %llu, send errors %llu), receipts %llu (timeouts %llu)\n"
                "delivered %llu of %llu expected: lost %llu, duplicated %llu, reordered %llu\n"
                "throughput: %.1f sent/s, %.1f delivered/s over %.1f s; errors %llu\n"
                "generator: %.2f CPU cores of %.0f usable, send lag p99 %.2f ms\n",
                static_cast<unsigned long long>(r.sent), static_cast<unsigned long long>(r.planned),
                static_cast<unsigned long long>(r.dropped_sends), static_cast<unsigned long long>(r.send_errors),
                static_cast<unsigned long long>(r.receipts), static_cast<unsigned long long>(r.receipt_timeouts),
                static_cast<unsigned long long>(r.delivered), static_cast<unsigned long long>(r.expected),
                static_cast<unsigned long long>(r.lost), static_cast<unsigned long long>(r.duplicated),
                static_cast<unsigned long long>(r.reordered), static_cast<double>(r.sent) / secs,
                static_cast<double>(r.delivered) / secs, secs, static_cast<unsigned long long>(r.errors),
                r.generator.cpu_cores(), r.generator.usable_cores, ms(r.generator.send_lag.percentile(99)));
  out << line;
  for (const auto& [k, v] : r.errors_by_kind) out << "  error " << k << ": " << v << "\n";
  const auto& a = r.answers;
  const auto n = [&](send_outcome o) { return static_cast<unsigned long long>(a.count(o)); };
  std::snprintf(
      line, sizeof line,
      "answers: receipted %llu, rate-limited %llu, overloaded %llu, not accepted %llu, other errors %llu, "
      "UNANSWERED %llu (answered twice %llu, after the drain %llu)\n"
      "receipted messages: lost %llu, duplicated %llu, reordered %llu; refused but delivered %llu; "
      "sessions disconnected %llu\n",
      n(send_outcome::receipted), n(send_outcome::rate_limited), n(send_outcome::overloaded),
      n(send_outcome::not_accepted), n(send_outcome::other_error), n(send_outcome::pending),
      static_cast<unsigned long long>(a.answered_twice), static_cast<unsigned long long>(a.after_drain),
      static_cast<unsigned long long>(a.receipted_lost), static_cast<unsigned long long>(a.receipted_duplicated),
      static_cast<unsigned long long>(a.receipted_reordered), static_cast<unsigned long long>(a.refused_but_delivered),
      static_cast<unsigned long long>(r.sessions_disconnected));
  out << line;
  for (const auto& [k, v] : r.disconnected_by_reason) out << "  disconnected " << k << ": " << v << "\n";
  if (r.churn.rate > 0) {
    const auto& c = r.churn;
    const auto u = [](std::uint64_t v) { return static_cast<unsigned long long>(v); };
    std::snprintf(line, sizeof line,
                  "churn %.1f/s: %llu drops, %llu reconnects (%llu failed, %llu drops skipped), re-subscribed rooms "
                  "recovered %llu, not recovered %llu (%llu without a recovered header); %llu events replayed, "
                  "%llu truncations; %llu sends not sent while reconnecting, %llu unanswered by their dropped "
                  "connection\n",
                  c.rate, u(c.drops), u(c.reconnects), u(c.failed), u(c.skipped), u(c.recovered), u(c.not_recovered),
                  u(c.no_header), u(c.recovered_events), u(c.truncations), u(c.unsent), u(c.orphaned));
    out << line;
  }
  if (!o.mix.send_only()) {
    out << "mix " << o.mix.text() << ": events by kind (issued, delivered/expected, lost, duplicated, reordered)";
    std::snprintf(line, sizeof line, "; %llu sent as messages (no own message to target yet)\n",
                  static_cast<unsigned long long>(r.events.fallbacks));
    out << line;
    for (std::size_t i = 0; i < event_count; ++i) {
      const auto& k = r.events.by_kind[i];
      std::snprintf(line, sizeof line, "  %-17s %9llu  %llu/%llu  lost %llu, duplicated %llu, reordered %llu\n",
                    to_string(static_cast<event_index>(i)), static_cast<unsigned long long>(k.issued),
                    static_cast<unsigned long long>(k.delivered), static_cast<unsigned long long>(k.expected),
                    static_cast<unsigned long long>(k.lost), static_cast<unsigned long long>(k.duplicated),
                    static_cast<unsigned long long>(k.reordered));
      out << line;
    }
  }
  if (r.phases.size() > 1 || !o.phases.empty()) {
    for (std::size_t i = 0; i < r.phases.size(); ++i) {
      const auto& ph = r.phases[i];
      const double secs_ph = ph.phase.seconds > 0 ? ph.phase.seconds : 1;
      std::snprintf(line, sizeof line,
                    "phase %zu: %.0f msg/s for %.1f s: goodput %.1f receipts/s, %.1f deliveries/s; its messages: "
                    "refused %llu, delivery p99 %.2f ms, receipt p99 %.2f ms",
                    i, ph.phase.rate, ph.phase.seconds, static_cast<double>(ph.stats.receipts_arrived) / secs_ph,
                    static_cast<double>(ph.stats.deliveries_arrived) / secs_ph,
                    static_cast<unsigned long long>(ph.stats.refused), ms(ph.stats.delivery.percentile(99)),
                    ms(ph.stats.receipt.percentile(99)));
      out << line;
      if (i + 1 < r.phases.size()) {
        if (ph.recovery_s)
          std::snprintf(line, sizeof line, "; p99 back under %.0f ms %.0f s after its end", o.recovery_threshold_ms,
                        *ph.recovery_s);
        else
          std::snprintf(line, sizeof line, "; p99 NOT back under %.0f ms by the end", o.recovery_threshold_ms);
        out << line;
      }
      out << "\n";
    }
  }
  if (r.login_flood) {
    const auto& f = *r.login_flood;
    std::snprintf(line, sizeof line, "login flood: %u threads, %llu logins in %.1f s (%.1f/s), p99 %.2f ms:", f.threads,
                  static_cast<unsigned long long>(f.requests), f.seconds,
                  f.seconds > 0 ? static_cast<double>(f.requests) / f.seconds : 0.0, ms(f.latency.percentile(99)));
    out << line;
    for (const auto& [k, v] : f.by_status) out << " " << k << " x" << v;
    out << "\n";
  }
  if (!r.server_stages.empty()) {
    out << "chatd stages (time since createdAt, whole sending phase, --server-metrics):\n";
    for (const auto& s : r.server_stages) {
      std::snprintf(line, sizeof line, "  %-20s %10llu  p50 %8.2f ms  p99 %8.2f ms\n", s.stage.c_str(),
                    static_cast<unsigned long long>(s.count), s.p50_ms, s.p99_ms);
      out << line;
    }
  } else if (!r.server_stages_error.empty()) {
    out << "chatd stages: not measured (" << r.server_stages_error << ")\n";
  }
  if (!r.valid.valid) {
    out << "INVALID RUN (the generator was the bottleneck; latency figures are not the server's):\n";
    for (const auto& why : r.valid.reasons) out << "  " << why << "\n";
  }
}

nlohmann::json per_second_json(const interval_series& s) {
  auto a = nlohmann::json::array();
  for (std::size_t i = 0; i < s.size(); ++i) {
    const auto& x = s[i];
    a.push_back({{"second", i},
                 {"sent", x.sent},
                 {"delivered", x.delivery.count()},
                 {"over_50ms", x.over_50ms},
                 {"p50_ms", ms(x.delivery.percentile(50))},
                 {"p90_ms", ms(x.delivery.percentile(90))},
                 {"p99_ms", ms(x.delivery.percentile(99))},
                 {"p999_ms", ms(x.delivery.percentile(99.9))},
                 {"max_ms", ms(x.delivery.max())},
                 {"receipts", x.receipt.count()},
                 {"refused", x.refused},
                 {"receipt_p50_ms", ms(x.receipt.percentile(50))},
                 {"receipt_p99_ms", ms(x.receipt.percentile(99))},
                 {"receipt_max_ms", ms(x.receipt.max())}});
  }
  return a;
}

nlohmann::json to_json(const run_options& o, const run_result& r, const std::vector<assertion_outcome>& outcomes) {
  const double secs = r.elapsed_s > 0 ? r.elapsed_s : 1;
  nlohmann::json j;
  j["schema"] = "chatload-report/1";
  j["config"] = {{"url", o.generic ? std::string() : chat::client::to_string(o.http)},
                 {"stomp_url", chat::client::to_string(o.stomp)},
                 {"mode", model_name(o.model)},
                 {"generic", o.generic},
                 {"users", o.users},
                 {"rooms", o.rooms},
                 {"members", o.members},
                 {"rate", o.rate},
                 {"ramp_up_s", std::chrono::duration<double>(o.ramp_up).count()},
                 {"duration_s", std::chrono::duration<double>(o.duration).count()},
                 {"warmup_s", std::chrono::duration<double>(o.warmup).count()},
                 {"drain_s", std::chrono::duration<double>(o.drain).count()},
                 {"think_ms", o.think.count()},
                 {"message_bytes", o.message_bytes},
                 {"connect_rate", o.connect_rate},
                 {"io_threads", o.io_threads},
                 {"send_dest", o.generic ? o.send_dest : std::string(chatd_send_destination())},
                 {"sub_dest", o.generic ? o.sub_dest : room_destination_template()},
                 {"fixture", o.fixture_path},
                 {"phases", phases_config_json(o)},
                 {"recovery_threshold_ms", o.recovery_threshold_ms},
                 {"login_flood", o.login_flood},
                 {"mix", o.mix.text()},
                 {"churn", o.churn}};
  j["setup"] = {{"source", r.setup_source},
                {"seconds", r.setup_s},
                {"sessions_seconds", r.sessions_s},
                {"sessions_per_s", r.sessions_s > 0 ? static_cast<double>(r.sessions) / r.sessions_s : 0.0}};
  j["elapsed_s"] = r.elapsed_s;
  j["sessions"] = r.sessions;
  j["counts"] = {{"planned", r.planned},
                 {"sent", r.sent},
                 {"dropped_sends", r.dropped_sends},
                 {"send_errors", r.send_errors},
                 {"receipts", r.receipts},
                 {"receipt_timeouts", r.receipt_timeouts},
                 {"expected", r.expected},
                 {"delivered", r.delivered},
                 {"lost", r.lost},
                 {"duplicated", r.duplicated},
                 {"reordered", r.reordered},
                 {"errors", r.errors},
                 {"sends_unanswered", r.answers.count(send_outcome::pending)},
                 {"sessions_disconnected", r.sessions_disconnected}};
  j["throughput"] = {{"sent_per_s", static_cast<double>(r.sent) / secs},
                     {"delivered_per_s", static_cast<double>(r.delivered) / secs}};
  j["latency_ms"] = {{"delivery", latency_json(r.delivery)},
                     {"receipt", latency_json(r.receipt)},
                     {"connect", latency_json(r.connect)},
                     {"subscribe", latency_json(r.subscribe)}};
  j["percentile_curve"] = nlohmann::json::array();
  for (const auto& p : percentile_distribution(r.delivery))
    j["percentile_curve"].push_back(
        {{"value_ms", ms(p.value_us)}, {"percentile", p.percentile}, {"count", p.total_count}});
  j["errors"] = nlohmann::json::object();
  for (const auto& [k, v] : r.errors_by_kind) j["errors"][k] = v;
  const auto& a = r.answers;
  j["answers"] = {{"receipted", a.count(send_outcome::receipted)},
                  {"rate_limited", a.count(send_outcome::rate_limited)},
                  {"overloaded", a.count(send_outcome::overloaded)},
                  {"not_accepted", a.count(send_outcome::not_accepted)},
                  {"other_errors", a.count(send_outcome::other_error)},
                  {"unanswered", a.count(send_outcome::pending)},
                  {"answered_twice", a.answered_twice},
                  {"after_drain", a.after_drain},
                  {"refusals_by_message", a.refusals_by_message}};
  j["receipted"] = {{"expected", a.receipted_expected},   {"delivered", a.receipted_delivered},
                    {"lost", a.receipted_lost},           {"duplicated", a.receipted_duplicated},
                    {"reordered", a.receipted_reordered}, {"refused_but_delivered", a.refused_but_delivered}};
  j["sessions_disconnected"] = {{"total", r.sessions_disconnected}, {"by_reason", r.disconnected_by_reason}};
  // Every run: the room events by kind (a send-only run has messages only).
  auto& events = j["events"];
  events["by_kind"] = nlohmann::json::object();
  for (std::size_t i = 0; i < event_count; ++i) {
    const auto& k = r.events.by_kind[i];
    events["by_kind"][to_string(static_cast<event_index>(i))] = {
        {"issued", k.issued}, {"receipted", k.receipted},   {"expected", k.expected},  {"delivered", k.delivered},
        {"lost", k.lost},     {"duplicated", k.duplicated}, {"reordered", k.reordered}};
  }
  events["fallbacks"] = r.events.fallbacks;
  events["receipts_without_id"] = r.events.receipts_without_id;
  events["read_events"] = r.events.read_events;
  if (r.churn.rate > 0) {
    const auto& c = r.churn;
    j["churn"] = {{"rate", c.rate},
                  {"drops", c.drops},
                  {"reconnects", c.reconnects},
                  {"failed", c.failed},
                  {"skipped", c.skipped},
                  {"recovered", c.recovered},
                  {"not_recovered", c.not_recovered},
                  {"without_recovered_header", c.no_header},
                  {"recovered_events", c.recovered_events},
                  {"truncations", c.truncations},
                  {"unsent", c.unsent},
                  {"orphaned", c.orphaned},
                  {"reconnect_ms", latency_json(c.reconnect)}};
  } else {
    j["churn"] = nullptr;
  }
  j["phases"] = nlohmann::json::array();
  std::uint64_t window_receipted = 0, window_deliveries = 0;
  double window_s = 0;
  for (std::size_t i = 0; i < r.phases.size(); ++i) {
    const auto& ph = r.phases[i];
    window_receipted += ph.stats.receipts_arrived;
    window_deliveries += ph.stats.deliveries_arrived;
    window_s += ph.phase.seconds;
    j["phases"].push_back(
        {{"index", i},
         {"rate", ph.phase.rate},
         {"seconds", ph.phase.seconds},
         {"start_s", ph.start_s},
         {"planned", ph.planned},
         {"receipted", ph.stats.receipted},
         {"refused", ph.stats.refused},
         {"deliveries", ph.stats.delivery.count()},
         {"goodput", goodput_json(ph.stats.receipts_arrived, ph.stats.deliveries_arrived, ph.phase.seconds, o.members)},
         {"latency_ms", {{"delivery", latency_json(ph.stats.delivery)}, {"receipt", latency_json(ph.stats.receipt)}}},
         {"recovery_s", optional_json(ph.recovery_s)}});
  }
  j["goodput"] = goodput_json(window_receipted, window_deliveries, window_s, o.members);
  j["recovery_seconds"] = optional_json(r.recovery_s);
  j["recovery"] = {
      {"after_phase", 0}, {"threshold_ms", o.recovery_threshold_ms}, {"seconds", optional_json(r.recovery_s)}};
  if (r.login_flood) {
    const auto& f = *r.login_flood;
    j["login_flood"] = {
        {"threads", f.threads},     {"requests", f.requests},
        {"seconds", f.seconds},     {"per_s", f.seconds > 0 ? static_cast<double>(f.requests) / f.seconds : 0.0},
        {"by_status", f.by_status}, {"latency_ms", latency_json(f.latency)}};
  } else {
    j["login_flood"] = nullptr;
  }
  if (!r.server_stages.empty()) {
    auto stages = nlohmann::json::object();
    for (const auto& s : r.server_stages) {
      stages[s.stage] = {{"count", s.count}, {"p50_ms", s.p50_ms}, {"p99_ms", s.p99_ms}};
    }
    j["server_stages"] = stages;
  } else {
    j["server_stages"] = nullptr;
    if (!r.server_stages_error.empty()) j["server_stages_error"] = r.server_stages_error;
  }
  j["timeline"] = nlohmann::json::array();
  for (const auto& p : r.timeline)
    j["timeline"].push_back({{"t", p.t},
                             {"sent", p.sent},
                             {"delivered", p.delivered},
                             {"receipts", p.receipts},
                             {"refused", p.refused},
                             {"cpu_cores", p.cpu_cores}});
  j["per_second"] = per_second_json(r.per_second);
  const auto& g = r.generator;
  j["generator"] = {{"send_lag_ms", latency_json(g.send_lag)},
                    {"scheduler_lag_ms", latency_json(g.scheduler_lag)},
                    {"cpu_user_s", g.cpu_user_s},
                    {"cpu_system_s", g.cpu_system_s},
                    {"cpu_cores", g.cpu_cores()},
                    {"usable_cores", g.usable_cores}};
  j["validity"] = {{"valid", r.valid.valid},
                   {"reasons", r.valid.reasons},
                   {"bounds",
                    {{"max_lag_p99_ms", o.bounds.max_lag_p99_ms},
                     {"max_cpu_fraction", o.bounds.max_cpu_fraction},
                     {"max_dropped_fraction", o.bounds.max_dropped_fraction}}}};
  j["assertions"] = nlohmann::json::array();
  for (const auto& a : outcomes)
    j["assertions"].push_back({{"assertion", a.a->text},
                               {"value", std::isnan(a.value) ? nlohmann::json(nullptr) : nlohmann::json(a.value)},
                               {"ok", a.ok}});
  return j;
}

}  // namespace chatload
