// chatload (docs/chatload.md, issue 7): parses options, runs the scenario, prints and checks the results;
// `chatload compare BASE.json NEW.json` compares two reports.
// Exit codes (docs/chatload.md): 0 ok, 1 the run failed (set-up, connections, writing a
// report) — for compare: NEW regressed, 2 usage, 3 invalid run (the generator was overloaded),
// 99 an --assert violated.
#include "assertions.hpp"
#include "churn.hpp"
#include "compare.hpp"
#include "fixture.hpp"
#include "hgrm.hpp"
#include "html.hpp"
#include "report.hpp"
#include "runner.hpp"

#include <CLI/CLI.hpp>
#include <cmath>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

namespace {

constexpr int exit_ok = 0;
constexpr int exit_failed = 1;
constexpr int exit_usage = 2;
constexpr int exit_invalid = 3;
constexpr int exit_assertion = 99;

std::chrono::milliseconds seconds_to_ms(double s) {
  return std::chrono::milliseconds(static_cast<long long>(s * 1000));
}

int run_compare(const std::string& base_path, const std::string& new_path, const std::string& tolerance_text,
                double slack_ms) {
  const auto tol = chatload::parse_tolerance(tolerance_text);
  if (!tol) {
    std::cerr << "chatload compare: --tolerance '" << tolerance_text << "' is not like 10% or 0.1\n";
    return exit_usage;
  }
  std::string why;
  auto base = chatload::read_json_file(base_path, why);
  auto next = base ? chatload::read_json_file(new_path, why) : std::nullopt;
  if (!base || !next) {
    std::cerr << "chatload compare: " << why << "\n";
    return exit_usage;
  }
  auto r = chatload::compare_reports(*base, *next, *tol, slack_ms, why);
  if (!r) {
    std::cerr << "chatload compare: " << why << "\n";
    return exit_usage;
  }
  chatload::print_comparison(std::cout, *r, *tol);
  if (r->invalid) return exit_invalid;
  return r->regressed ? exit_failed : exit_ok;
}

template <class Write>
bool write_file(const std::string& path, Write&& write) {
  std::ofstream f(path);
  write(f);
  f.flush();
  if (!f) {
    std::cerr << "chatload: cannot write " << path << "\n";
    return false;
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "chatload: multi-session load generator and benchmark gate for chatd and STOMP brokers (docs/chatload.md)"};
  chatload::run_options o;
  std::string url = "http://127.0.0.1:8080", stomp_url, json_path, html_path, hgrm_path, mode = "open";
  double duration_s = 10, drain_s = 5, warmup_s = 0, ramp_s = 0, think_s = 0, receipt_timeout_s = 10;
  std::vector<std::string> assert_texts;
  std::string phases_text;
  std::string mix_text;
  std::string churn_text;
  bool quiet = false;
  app.add_option("--url", url, "chatd REST base URL")->capture_default_str();
  app.add_option("--stomp-url", stomp_url,
                 "STOMP endpoint: ws://host:port/ws or tcp://host:port (default: the --url's /ws)");
  app.add_option("--users", o.users, "users (one STOMP session each)")
      ->check(CLI::Range(1u, 1000000u))
      ->capture_default_str();
  app.add_option("--rooms", o.rooms, "rooms")->check(CLI::Range(1u, 1000000u))->capture_default_str();
  app.add_option("--members", o.members, "members per room (<= users)")
      ->check(CLI::Range(1u, 1000u))
      ->capture_default_str();
  app.add_option("--mode", mode, "open (fixed arrival rate) or sessions (closed: next send after the RECEIPT)")
      ->check(CLI::IsMember({"open", "sessions"}))
      ->capture_default_str();
  auto* rate_opt = app.add_option("--rate", o.rate, "open model: SENDs per second, all rooms together")
                       ->check(CLI::Range(0.01, 1e7))
                       ->capture_default_str();
  app.add_option(
         "--ramp-up", ramp_s,
         "seconds over which the arrival rate grows linearly from 0 to --rate (sessions: over which sessions start)")
      ->check(CLI::Range(0.0, 3600.0))
      ->capture_default_str();
  auto* duration_opt = app.add_option("--duration", duration_s, "seconds of measured sending")
                           ->check(CLI::Range(0.1, 86400.0))
                           ->capture_default_str();
  app.add_option("--phases", phases_text,
                 "open model: rate profile of the measured window instead of --rate/--duration, RATExSECONDS,... "
                 "(e.g. 3000x60,500x20: overload, then recovery)")
      ->excludes(rate_opt)
      ->excludes(duration_opt);
  app.add_option("--mix", mix_text,
                 "what the sends do, by weight: send=80,edit=5,delete=5,react=10 (default send=100); edits, "
                 "deletes and reactions target the session's own receipted messages (chatd only)");
  app.add_option("--churn", churn_text,
                 "sessions per second that drop their connection and reconnect, resubscribing with since-id "
                 "(N per second, or N% of --users per second; open model, chatd only)");
  app.add_option(
         "--recovery-threshold-ms", o.recovery_threshold_ms,
         "recovery_seconds: time after the first phase until the per-second delivery p99 stays at or under this")
      ->check(CLI::Range(0.001, 1e9))
      ->capture_default_str();
  app.add_option("--login-flood", o.login_flood,
                 "threads posting logins of unknown users (POST /api/auth/login) during the measured window")
      ->check(CLI::Range(0u, 4096u))
      ->capture_default_str();
  app.add_option("--warmup", warmup_s,
                 "seconds of sending after the ramp-up, before --duration, left out of the latency figures")
      ->check(CLI::Range(0.0, 3600.0))
      ->capture_default_str();
  app.add_option("--drain", drain_s, "longest wait in seconds for outstanding deliveries")
      ->check(CLI::Range(0.0, 3600.0))
      ->capture_default_str();
  app.add_option("--think", think_s, "sessions model: seconds between a RECEIPT and the session's next SEND")
      ->check(CLI::Range(0.0, 3600.0))
      ->capture_default_str();
  app.add_option("--receipt-timeout", receipt_timeout_s,
                 "sessions model: seconds to wait for a RECEIPT before sending on")
      ->check(CLI::Range(0.001, 3600.0))
      ->capture_default_str();
  app.add_option("--message-bytes", o.message_bytes, "content length (at least the ~50-byte identity header)")
      ->check(CLI::Range(1, 60000))
      ->capture_default_str();
  app.add_option("--connect-rate", o.connect_rate, "new sessions per second")
      ->check(CLI::Range(1.0, 1e6))
      ->capture_default_str();
  app.add_option("--io-threads", o.io_threads, "threads running the sessions")
      ->check(CLI::Range(1u, 64u))
      ->capture_default_str();
  app.add_option("--setup-threads", o.setup_threads, "parallel REST clients for set-up")
      ->check(CLI::Range(1u, 64u))
      ->capture_default_str();
  app.add_option("--password", o.password, "password of the created users");
  app.add_option("--fixture", o.fixture_path,
                 "reuse the users and rooms recorded in FILE, or create them and write FILE");
  app.add_flag("--generic", o.generic, "generic STOMP mode: no REST, destination templates, login/passcode");
  app.add_option("--send-dest", o.send_dest, "generic: SEND destination template ({room}, {user})")
      ->capture_default_str();
  app.add_option("--sub-dest", o.sub_dest, "generic: SUBSCRIBE destination template ({room}, {user})")
      ->capture_default_str();
  app.add_option("--login", o.login, "generic: CONNECT login ({user} = user index; default: the fixture's email)");
  app.add_option("--passcode", o.passcode, "generic: CONNECT passcode ({user}; default: the fixture's token)");
  app.add_option("--vhost", o.vhost,
                 "CONNECT host header (RabbitMQ: the virtual host, e.g. /); default: the server's host");
  app.add_option("--max-lag-ms", o.bounds.max_lag_p99_ms,
                 "self-monitor: largest p99 send lag (planned -> SEND queued) of a valid run")
      ->check(CLI::Range(0.0, 1e9))
      ->capture_default_str();
  app.add_option("--max-cpu", o.bounds.max_cpu_fraction,
                 "self-monitor: largest CPU use of a valid run, as a fraction of the usable cores")
      ->check(CLI::Range(0.0, 64.0))
      ->capture_default_str();
  app.add_option("--max-dropped", o.bounds.max_dropped_fraction,
                 "self-monitor: largest dropped_sends/planned of a valid run")
      ->check(CLI::Range(0.0, 1.0))
      ->capture_default_str();
  app.add_option("--max-messages", o.max_messages, "sessions model: most messages tracked")
      ->check(CLI::Range(std::uint64_t{1}, std::uint64_t{1} << 40))
      ->capture_default_str();
  app.add_option("--server-metrics", o.server_metrics,
                 "chatd /metrics URL (repeatable, one per node): report the stage latencies of the run")
      ->check([](const std::string& u) {
        std::string why;
        return chat::client::parse_url(u, &why) ? std::string{} : "bad URL: " + why;
      });
  app.add_option("--json", json_path, "write the JSON report (docs/chatload.md) to FILE");
  app.add_option("--html", html_path, "write a self-contained HTML report with plots to FILE");
  app.add_option("--hgrm", hgrm_path,
                 "write the HdrHistogram percentile distribution of delivery latency (ms) to FILE");
  app.add_option(
      "--assert", assert_texts,
      "threshold, e.g. 'p99<50ms', 'lost==0', 'error_rate<0.1%' (repeatable; docs/chatload.md lists every metric)");
  app.add_flag("--quiet", quiet, "no progress on stderr");

  auto* cmp = app.add_subcommand("compare",
                                 "compare two --json reports; exit 1 when NEW is worse than BASE beyond the tolerance");
  std::string base_path, new_path, tolerance = "10%";
  double slack_ms = 0;
  cmp->add_option("BASE", base_path, "baseline report")->required();
  cmp->add_option("NEW", new_path, "new report")->required();
  cmp->add_option("--tolerance", tolerance, "allowed relative worsening, e.g. 10% or 0.1")->capture_default_str();
  cmp->add_option("--slack-ms", slack_ms, "latencies must also worsen by more than this many ms")
      ->check(CLI::Range(0.0, 1e9))
      ->capture_default_str();

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? exit_ok : exit_usage;
  }
  if (cmp->parsed()) return run_compare(base_path, new_path, tolerance, slack_ms);

  std::vector<chatload::assertion> asserts;
  for (const auto& t : assert_texts) {
    std::string why;
    auto a = chatload::parse_assertion(t, why);
    if (!a) {
      std::cerr << "chatload: " << why << "\n";
      return exit_usage;
    }
    asserts.push_back(std::move(*a));
  }
  std::string why;
  auto http = chat::client::parse_url(url, &why);
  if (!http || http->kind != chat::client::scheme::http) {
    std::cerr << "chatload: --url: " << (why.empty() ? "not an http:// URL" : why) << "\n";
    return exit_usage;
  }
  o.http = *http;
  if (stomp_url.empty()) {
    if (o.generic) {
      std::cerr << "chatload: --generic needs --stomp-url (ws://host:port/path or tcp://host:port)\n";
      return exit_usage;
    }
    o.stomp = chat::client::websocket_url_for(*http);
  } else {
    auto s = chat::client::parse_url(stomp_url, &why);
    if (!s || s->kind == chat::client::scheme::http) {
      std::cerr << "chatload: --stomp-url: " << (why.empty() ? "not a ws:// or tcp:// URL" : why) << "\n";
      return exit_usage;
    }
    o.stomp = *s;
  }
  if (o.members > o.users) {
    std::cerr << "chatload: --members must not exceed --users\n";
    return exit_usage;
  }
  if (!o.fixture_path.empty() && std::filesystem::exists(o.fixture_path)) {
    auto f = chatload::load_fixture(o.fixture_path, why);
    if (!f) {
      std::cerr << "chatload: --fixture: " << why << "\n";
      return exit_usage;
    }
    if (auto m = chatload::mismatch(*f, o.users, o.rooms, o.members)) {
      std::cerr << "chatload: --fixture " << o.fixture_path << ": " << *m << "\n";
      return exit_usage;
    }
    o.reuse = std::move(*f);
  } else if (!o.fixture_path.empty() && o.generic) {
    std::cerr << "chatload: --fixture " << o.fixture_path
              << " does not exist; generic mode cannot create users (run once without --generic)\n";
    return exit_usage;
  }
  if (!mix_text.empty()) {
    auto m = chatload::parse_mix(mix_text, why);
    if (!m) {
      std::cerr << "chatload: " << why << "\n";
      return exit_usage;
    }
    if (o.generic && !m->send_only()) {
      std::cerr << "chatload: --mix with edits, deletes or reactions needs chatd (not --generic)\n";
      return exit_usage;
    }
    o.mix = *m;
  }
  o.model = mode == "sessions" ? chatload::load_model::sessions : chatload::load_model::open;
  if (!phases_text.empty()) {
    auto phases = chatload::parse_phases(phases_text, why);
    if (!phases) {
      std::cerr << "chatload: " << why << "\n";
      return exit_usage;
    }
    if (o.model != chatload::load_model::open) {
      std::cerr << "chatload: --phases is a rate profile of the open model (--mode open)\n";
      return exit_usage;
    }
    o.phases = std::move(*phases);
    o.rate = o.phases.front().rate;
    duration_s = 0;
    for (const auto& p : o.phases) duration_s += p.seconds;
  }
  if (o.login_flood > 0 && o.generic) {
    std::cerr << "chatload: --login-flood needs chatd's REST API (not --generic)\n";
    return exit_usage;
  }
  if (!churn_text.empty()) {
    const auto churn = chatload::parse_churn(churn_text, o.users, why);
    if (!churn) {
      std::cerr << "chatload: --churn: " << why << "\n";
      return exit_usage;
    }
    if (o.generic || o.model != chatload::load_model::open) {
      std::cerr << "chatload: --churn needs chatd (not --generic) and the open model (--mode open)\n";
      return exit_usage;
    }
    o.churn = *churn;
  }
  o.duration = seconds_to_ms(duration_s);
  o.warmup = seconds_to_ms(warmup_s);
  o.drain = seconds_to_ms(drain_s);
  o.ramp_up = seconds_to_ms(ramp_s);
  o.think = seconds_to_ms(think_s);
  o.receipt_timeout = seconds_to_ms(receipt_timeout_s);
  o.progress = !quiet;

  chatload::run_result r;
  try {
    r = chatload::run(o);
  } catch (const std::exception& e) {
    std::cerr << "chatload: run failed: " << e.what() << "\n";
    return exit_failed;
  }
  const auto outcomes = chatload::evaluate(r, asserts);
  chatload::print_summary(std::cout, o, r);
  const auto report = chatload::to_json(o, r, outcomes);
  bool written = true;
  if (!json_path.empty()) written &= write_file(json_path, [&](std::ostream& f) { f << report.dump(2) << "\n"; });
  if (!hgrm_path.empty())
    written &= write_file(hgrm_path, [&](std::ostream& f) { chatload::write_hgrm(f, r.delivery); });
  if (!html_path.empty()) written &= write_file(html_path, [&](std::ostream& f) { chatload::write_html(f, report); });
  bool violated = false;
  for (const auto& oc : outcomes) {
    if (!oc.ok) {
      if (std::isnan(oc.value))
        std::cout << "ASSERTION FAILED: " << oc.a->text << " (no value: nothing was measured)\n";
      else
        std::cout << "ASSERTION FAILED: " << oc.a->text << " (value " << oc.value << ")\n";
      violated = true;
    }
  }
  if (!written) return exit_failed;
  // An invalid run's numbers describe the generator, so its assertions mean nothing: 3 wins.
  if (!r.valid.valid) return exit_invalid;
  return violated ? exit_assertion : exit_ok;
}
