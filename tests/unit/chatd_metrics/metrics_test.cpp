#include "metrics/chat_metrics.hpp"
#include "metrics/metrics.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

using namespace chat::metrics;

TEST(Metrics, CountersGaugesAndLabelsRender) {
  registry r;
  r.get_counter("x_total", "Things", {{"group", "a"}}).inc(3);
  r.get_counter("x_total", "Things", {{"group", "b\"q"}}).inc();
  r.get_gauge("y", "Level").set(2.5);
  const std::string text = r.render();
  EXPECT_NE(text.find("# HELP x_total Things\n# TYPE x_total counter\n"), std::string::npos) << text;
  EXPECT_NE(text.find("x_total{group=\"a\"} 3\n"), std::string::npos) << text;
  EXPECT_NE(text.find("x_total{group=\"b\\\"q\"} 1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("# TYPE y gauge\ny 2.5\n"), std::string::npos) << text;
}

TEST(Metrics, SameSeriesIsReturnedTwice) {
  registry r;
  auto& a = r.get_counter("c_total", "c", {{"k", "v"}});
  auto& b = r.get_counter("c_total", "c", {{"k", "v"}});
  EXPECT_EQ(&a, &b);
  EXPECT_THROW(r.get_gauge("c_total", "c"), std::logic_error);
}

TEST(Metrics, HistogramBucketsAreCumulative) {
  registry r;
  auto& h = r.get_histogram("lat_seconds", "Latency", {{"g", "p"}}, {0.01, 0.1, 1});
  h.observe(0.005);
  h.observe(0.05);
  h.observe(0.05);
  h.observe(5);
  const std::string text = r.render();
  EXPECT_NE(text.find("lat_seconds_bucket{g=\"p\",le=\"0.01\"} 1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("lat_seconds_bucket{g=\"p\",le=\"0.1\"} 3\n"), std::string::npos) << text;
  EXPECT_NE(text.find("lat_seconds_bucket{g=\"p\",le=\"1\"} 3\n"), std::string::npos) << text;
  EXPECT_NE(text.find("lat_seconds_bucket{g=\"p\",le=\"+Inf\"} 4\n"), std::string::npos) << text;
  EXPECT_NE(text.find("lat_seconds_count{g=\"p\"} 4\n"), std::string::npos) << text;
  EXPECT_NEAR(h.sum(), 5.105, 1e-6);
}

TEST(Metrics, HistogramCountMatchesTheInfBucketInEveryScrapeUnderConcurrentObserves) {
  registry r;
  auto& h = r.get_histogram("busy_seconds", "Busy", {}, {0.1});
  std::atomic<bool> stop{false};
  std::thread writer([&] {
    while (!stop.load(std::memory_order_relaxed)) h.observe(0.05);
  });
  auto value_after = [](const std::string& text, const std::string& prefix) {
    const auto at = text.find(prefix);
    return at == std::string::npos ? std::string("missing")
                                   : text.substr(at + prefix.size(), text.find('\n', at) - at - prefix.size());
  };
  while (h.cumulative().back() == 0) std::this_thread::yield();  // the writer is running
  for (int i = 0; i < 20000; ++i) {
    const std::string text = r.render();
    const auto inf = value_after(text, "busy_seconds_bucket{le=\"+Inf\"} ");
    ASSERT_EQ(inf, value_after(text, "busy_seconds_count ")) << text;
  }
  stop = true;
  writer.join();
  EXPECT_EQ(h.count(), h.cumulative().back());
}

TEST(Metrics, ConcurrentIncrementsAreNotLost) {
  registry r;
  auto& c = r.get_counter("n_total", "n");
  auto& g = r.get_gauge("g", "g");
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 10000; ++i) {
        c.inc();
        g.add(1);
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(c.value(), 40000u);
  EXPECT_EQ(g.value(), 40000.0);
}

TEST(Metrics, CollectorsRunBeforeRender) {
  registry r;
  auto& lag = r.get_gauge("lag", "lag");
  int calls = 0;
  r.on_collect([&] { lag.set(++calls * 10); });
  EXPECT_NE(r.render().find("lag 10\n"), std::string::npos);
  EXPECT_NE(r.render().find("lag 20\n"), std::string::npos);
}

TEST(Metrics, ChatMetricsHasEverySpecName) {
  registry r;
  chat_metrics m(r);
  m.consumed("chat-persistence").inc();
  m.consume_duration("chat-persistence").observe(0.01);
  m.consumer_lag("chat-broadcast").set(0);
  m.dlt_records("chat.messages.dlt").inc(0);
  const std::string text = r.render();
  for (const char* name : {"chat_messages_sent_total", "chat_messages_consumed_total", "chat_websocket_sessions",
                           "chat_rooms_created_total", "chat_message_consume_duration_seconds",
                           "chat_delivery_latency_seconds", "chat_dlt_records_total", "chat_rate_limited_total",
                           "chat_slow_consumer_disconnects_total", "chat_consumer_lag"}) {
    EXPECT_NE(text.find(std::string("# TYPE ") + name + " "), std::string::npos) << name;
  }
}
