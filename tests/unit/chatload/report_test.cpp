#include "html.hpp"
#include "report.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <regex>
#include <sstream>

using namespace chatload;

namespace {
run_result sample_result() {
  run_result r;
  r.elapsed_s = 3;
  r.planned = r.sent = 30;
  r.receipts = 30;
  r.expected = r.delivered = 60;
  r.per_second = interval_series(3);
  for (int i = 0; i < 60; ++i) {
    const std::uint64_t us = 1000 + static_cast<std::uint64_t>(i) * 100;
    r.delivery.record(us);
    r.per_second.record_delivery(static_cast<std::int64_t>(i / 20) * 1'000'000'000, us);
  }
  r.timeline = {{1, 10, 20, 10, 0.1}, {2, 20, 40, 20, 0.1}, {3, 30, 60, 30, 0.1}};
  r.errors_by_kind["stomp_error: </script><b>"] = 1;
  return r;
}
}  // namespace

TEST(Report, PerSecondSeriesAndCurveInJson) {
  run_options o;
  const auto r = sample_result();
  const auto j = to_json(o, r, {});
  ASSERT_EQ(j["per_second"].size(), 3u);
  std::uint64_t sum = 0;
  for (const auto& s : j["per_second"]) {
    sum += s["delivered"].get<std::uint64_t>();
    EXPECT_LE(s["p50_ms"].get<double>(), s["p90_ms"].get<double>());
    EXPECT_LE(s["p90_ms"].get<double>(), s["p99_ms"].get<double>());
    EXPECT_LE(s["p99_ms"].get<double>(), s["max_ms"].get<double>());
  }
  EXPECT_EQ(sum, 60u);
  EXPECT_GT(j["per_second"][2]["p50_ms"].get<double>(), j["per_second"][0]["p50_ms"].get<double>());
  EXPECT_EQ(j["percentile_curve"].back()["percentile"], 1.0);
  EXPECT_EQ(j["validity"]["valid"], true);
  EXPECT_EQ(j["config"]["mode"], "open");
}

TEST(Report, HtmlIsSelfContainedAndEmbedsTheReport) {
  run_options o;
  const auto j = to_json(o, sample_result(), {});
  std::ostringstream out;
  write_html(out, j);
  const auto html = out.str();
  EXPECT_TRUE(html.starts_with("<!DOCTYPE html>"));
  for (const char* id : {"id=\"latency\"", "id=\"curve\"", "id=\"throughput\""})
    EXPECT_NE(html.find(id), std::string::npos) << id;
  // Nothing fetched from elsewhere.
  EXPECT_EQ(html.find("src="), std::string::npos);
  EXPECT_EQ(html.find("<link"), std::string::npos);
  EXPECT_EQ(html.find("@import"), std::string::npos);
  // The hostile error text cannot close the script element early.
  EXPECT_EQ(html.find("</script><b>"), std::string::npos);
  const auto start = html.find("id=\"report\">") + 12;
  const auto end = html.find("</script>", start);
  const auto embedded = nlohmann::json::parse(html.substr(start, end - start));
  EXPECT_EQ(embedded, j);
}

TEST(Report, RatesAndCountsForAssertions) {
  auto r = sample_result();  // 30 planned, 60 expected
  r.errors = 1;
  EXPECT_DOUBLE_EQ(metric_value(r, "delivered"), 60);
  EXPECT_DOUBLE_EQ(metric_value(r, "sent"), 30);
  EXPECT_DOUBLE_EQ(metric_value(r, "error_rate"), 1.0 / 30);
  EXPECT_DOUBLE_EQ(metric_value(r, "lost_rate"), 0);
  std::string why;
  const std::vector<assertion> asserts{*parse_assertion("error_rate<5%", why), *parse_assertion("error_rate<1%", why)};
  const auto out = evaluate(r, asserts);
  EXPECT_TRUE(out[0].ok);
  EXPECT_FALSE(out[1].ok);
}

TEST(Report, LatencyAssertionsFailWhenNothingWasDelivered) {
  run_result r;  // a server that accepted every SEND and delivered nothing
  r.planned = r.sent = r.receipts = 30;
  r.expected = 60;
  r.lost = 60;
  std::string why;
  const std::vector<assertion> asserts{*parse_assertion("p99<50ms", why), *parse_assertion("max<1s", why),
                                       *parse_assertion("dropped_rate==0", why)};
  const auto out = evaluate(r, asserts);
  EXPECT_FALSE(out[0].ok);
  EXPECT_TRUE(std::isnan(out[0].value));
  EXPECT_FALSE(out[1].ok);
  EXPECT_TRUE(out[2].ok);
  const auto j = to_json(run_options{}, r, out);
  EXPECT_TRUE(j["assertions"][0]["value"].is_null());
}

TEST(Report, AnswersPhasesRecoveryAndDisconnectsInJson) {
  run_options o;
  o.members = 2;
  o.phases = {{30, 2}, {10, 1}};
  auto r = sample_result();
  r.answers.outcomes[static_cast<std::size_t>(send_outcome::receipted)] = 25;
  r.answers.outcomes[static_cast<std::size_t>(send_outcome::overloaded)] = 3;
  r.answers.outcomes[static_cast<std::size_t>(send_outcome::pending)] = 2;
  r.answers.refusals_by_message["server overloaded"] = 3;
  r.answers.receipted_lost = 1;
  r.sessions_disconnected = 1;
  r.disconnected_by_reason["rate limit exceeded"] = 1;
  phase_result overload{{30, 2}, 0, 60, {}, 1.0};
  overload.stats.receipted = 70;         // of the messages planned in the phase
  overload.stats.receipts_arrived = 50;  // while it ran
  overload.stats.deliveries_arrived = 40;
  for (int i = 0; i < 40; ++i) overload.stats.delivery.record(900'000);
  phase_result after{{10, 1}, 2, 10, {}, std::nullopt};
  after.stats.receipts_arrived = 10;
  r.phases = {overload, after};
  r.recovery_s = 1.0;
  const auto j = to_json(o, r, {});
  EXPECT_EQ(j["counts"]["sends_unanswered"], 2);
  EXPECT_EQ(j["counts"]["sessions_disconnected"], 1);
  EXPECT_EQ(j["answers"]["receipted"], 25);
  EXPECT_EQ(j["answers"]["overloaded"], 3);
  EXPECT_EQ(j["answers"]["refusals_by_message"]["server overloaded"], 3);
  EXPECT_EQ(j["receipted"]["lost"], 1);
  EXPECT_EQ(j["sessions_disconnected"]["by_reason"]["rate limit exceeded"], 1);
  ASSERT_EQ(j["phases"].size(), 2u);
  EXPECT_EQ(j["phases"][0]["receipted"], 70);
  EXPECT_EQ(j["phases"][0]["goodput"]["receipted_per_s"], 25.0);
  EXPECT_EQ(j["phases"][0]["goodput"]["delivered_messages_per_s"], 10.0);  // 40 deliveries / 2 s / 2 members
  EXPECT_NEAR(j["phases"][0]["latency_ms"]["delivery"]["p99"].get<double>(), 900, 10);
  EXPECT_EQ(j["phases"][0]["recovery_s"], 1.0);
  EXPECT_TRUE(j["phases"][1]["recovery_s"].is_null());
  EXPECT_EQ(j["goodput"]["receipted_per_s"], 20.0);  // 60 arrived in the 3 s window
  EXPECT_EQ(j["recovery_seconds"], 1.0);
  EXPECT_EQ(j["config"]["phases"][1]["rate"], 10.0);
  EXPECT_TRUE(j["login_flood"].is_null());
  EXPECT_EQ(metric_value(r, "unanswered"), 2);
  EXPECT_EQ(metric_value(r, "disconnected"), 1);
  // The summary names what went wrong.
  std::ostringstream out;
  print_summary(out, o, r);
  EXPECT_NE(out.str().find("UNANSWERED 2"), std::string::npos) << out.str();
  EXPECT_NE(out.str().find("disconnected rate limit exceeded: 1"), std::string::npos) << out.str();
  EXPECT_NE(out.str().find("back under 100 ms 1 s after its end"), std::string::npos) << out.str();
}
