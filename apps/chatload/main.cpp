// chatload (SPEC §10): parses options, runs the scenario, prints and checks the results.
// Exit codes: 0 ok, 1 the run failed (set-up, connections), 2 usage, 99 an --assert violated.
#include "assertions.hpp"
#include "report.hpp"
#include "runner.hpp"

#include <CLI/CLI.hpp>

#include <fstream>
#include <iostream>

int main(int argc, char** argv) {
  CLI::App app{"chatload: multi-session load generator and benchmark gate for chatd (SPEC §10)"};
  chatload::run_options o;
  std::string url = "http://127.0.0.1:8080", stomp_url, json_path;
  double duration_s = 10, drain_s = 5, warmup_s = 0;
  std::vector<std::string> assert_texts;
  bool quiet = false;
  app.add_option("--url", url, "chatd REST base URL")->capture_default_str();
  app.add_option("--stomp-url", stomp_url, "STOMP endpoint: ws://host:port/ws or tcp://host:port (default: the --url's /ws)");
  app.add_option("--users", o.users, "users (one STOMP session each)")->check(CLI::Range(1u, 1000000u))->capture_default_str();
  app.add_option("--rooms", o.rooms, "group rooms")->check(CLI::Range(1u, 1000000u))->capture_default_str();
  app.add_option("--members", o.members, "members per room (<= users)")->check(CLI::Range(1u, 1000u))->capture_default_str();
  app.add_option("--rate", o.rate, "SENDs per second, all rooms together")->check(CLI::Range(0.01, 1e7))->capture_default_str();
  app.add_option("--duration", duration_s, "seconds of sending")->check(CLI::Range(0.1, 86400.0))->capture_default_str();
  app.add_option("--warmup", warmup_s, "seconds of sending before --duration, left out of the latency figures")->check(CLI::Range(0.0, 3600.0))->capture_default_str();
  app.add_option("--drain", drain_s, "longest wait in seconds for outstanding deliveries")->check(CLI::Range(0.0, 3600.0))->capture_default_str();
  app.add_option("--message-bytes", o.message_bytes, "content length")->check(CLI::Range(1, 4000))->capture_default_str();
  app.add_option("--connect-rate", o.connect_rate, "new sessions per second")->check(CLI::Range(1.0, 1e6))->capture_default_str();
  app.add_option("--io-threads", o.io_threads, "threads running the sessions")->check(CLI::Range(1u, 64u))->capture_default_str();
  app.add_option("--setup-threads", o.setup_threads, "parallel REST clients for set-up")->check(CLI::Range(1u, 64u))->capture_default_str();
  app.add_option("--password", o.password, "password of the created users");
  app.add_option("--json", json_path, "write the JSON report (docs/chatload.md) to this file");
  app.add_option("--assert", assert_texts, "threshold, e.g. 'p99<50ms', 'lost==0' (repeatable)");
  app.add_flag("--quiet", quiet, "no progress lines on stderr");
  CLI11_PARSE(app, argc, argv);

  std::vector<chatload::assertion> asserts;
  for (const auto& t : assert_texts) {
    std::string why;
    auto a = chatload::parse_assertion(t, why);
    if (!a) {
      std::cerr << "chatload: " << why << "\n";
      return 2;
    }
    asserts.push_back(std::move(*a));
  }
  std::string why;
  auto http = chat::client::parse_url(url, &why);
  if (!http || http->kind != chat::client::scheme::http) {
    std::cerr << "chatload: --url: " << (why.empty() ? "not an http:// URL" : why) << "\n";
    return 2;
  }
  o.http = *http;
  if (stomp_url.empty()) {
    o.stomp = chat::client::websocket_url_for(*http);
  } else {
    auto s = chat::client::parse_url(stomp_url, &why);
    if (!s || s->kind == chat::client::scheme::http) {
      std::cerr << "chatload: --stomp-url: " << (why.empty() ? "not a ws:// or tcp:// URL" : why) << "\n";
      return 2;
    }
    o.stomp = *s;
  }
  if (o.members > o.users) {
    std::cerr << "chatload: --members must not exceed --users\n";
    return 2;
  }
  o.duration = std::chrono::milliseconds(static_cast<long long>(duration_s * 1000));
  o.warmup = std::chrono::milliseconds(static_cast<long long>(warmup_s * 1000));
  o.drain = std::chrono::milliseconds(static_cast<long long>(drain_s * 1000));
  o.progress = !quiet;

  chatload::run_result r;
  try {
    r = chatload::run(o);
  } catch (const std::exception& e) {
    std::cerr << "chatload: run failed: " << e.what() << "\n";
    return 1;
  }
  const auto outcomes = chatload::evaluate(r, asserts);
  chatload::print_summary(std::cout, o, r);
  if (!json_path.empty()) {
    std::ofstream f(json_path);
    f << chatload::to_json(o, r, outcomes).dump(2) << "\n";
    if (!f) {
      std::cerr << "chatload: cannot write " << json_path << "\n";
      return 1;
    }
  }
  bool violated = false;
  for (const auto& oc : outcomes) {
    if (!oc.ok) {
      std::cout << "ASSERTION FAILED: " << oc.a->text << " (value " << oc.value << ")\n";
      violated = true;
    }
  }
  return violated ? 99 : 0;
}
