// consumer_loop against the development broker (a real Kafka wire protocol): batches are
// committed only after the handler succeeded, a failing batch is retried in place and in
// order, poison records go to the sink, stop() leaves a failing batch uncommitted.
#include "dev_broker.hpp"
#include "pipeline/consumer_loop.hpp"

#include <chat/kafka/producer.hpp>

#include <gtest/gtest.h>

#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <chat_test/eventually.hpp>

#include <set>
#include <thread>

namespace chat::chatd::pipeline {
namespace {

using namespace std::chrono_literals;
using clock = std::chrono::steady_clock;

using chat::test::eventually;

struct position {
  std::int32_t partition;
  std::int64_t offset;
  friend bool operator==(const position&, const position&) = default;
};

// What the fake handler saw and is told to do; shared with the test thread.
struct script {
  std::mutex mutex;
  std::vector<std::vector<position>> calls;               // every handle() call
  std::map<std::int32_t, std::vector<std::string>> done;  // values of succeeded batches, per partition
  int fail_first = 0;                                     // this many calls report an infrastructure failure
  bool fail_always = false;
  int fail_every = 0;  // every n-th call fails (0: never)
  std::set<std::string> poison_values;

  std::size_t call_count() {
    std::lock_guard lock(mutex);
    return calls.size();
  }
  std::vector<std::string> done_of(std::int32_t partition) {
    std::lock_guard lock(mutex);
    return done[partition];
  }
  std::size_t done_total() {
    std::lock_guard lock(mutex);
    std::size_t n = 0;
    for (const auto& [p, v] : done) n += v.size();
    return n;
  }
};

class fake_handler final : public batch_handler {
 public:
  explicit fake_handler(std::shared_ptr<script> s) : s_(std::move(s)) {}

  batch_outcome handle(std::span<const kafka::record> batch) override {
    std::lock_guard lock(s_->mutex);
    std::vector<position> seen;
    for (const auto& r : batch) seen.push_back({r.partition(), r.offset()});
    s_->calls.push_back(seen);
    const int n = static_cast<int>(s_->calls.size());
    if (s_->fail_always || n <= s_->fail_first || (s_->fail_every > 0 && n % s_->fail_every == 0)) {
      return batch_outcome::infra("database down (test)");
    }
    batch_outcome out;
    for (std::size_t i = 0; i < batch.size(); ++i) {
      const std::string value(batch[i].value());
      if (s_->poison_values.contains(value)) {
        out.failures.push_back({i, failure_kind::poison, "test_poison", "poison " + value});
        continue;
      }
      s_->done[batch[i].partition()].push_back(value);
    }
    return out;
  }

 private:
  std::shared_ptr<script> s_;
};

struct sunk {
  std::mutex mutex;
  std::vector<std::pair<position, record_failure>> records;
  std::vector<int> attempts;
  std::size_t size() {
    std::lock_guard lock(mutex);
    return records.size();
  }
};

class fake_sink final : public poison_sink {
 public:
  fake_sink(std::shared_ptr<sunk> s, bool durable) : s_(std::move(s)), durable_(durable) {}
  bool accept(const kafka::record& r, const record_failure& f, int attempts) override {
    std::lock_guard lock(s_->mutex);
    s_->records.push_back({{r.partition(), r.offset()}, f});
    s_->attempts.push_back(attempts);
    return true;
  }
  bool durable() const noexcept override { return durable_; }

 private:
  std::shared_ptr<sunk> s_;
  bool durable_;
};

class consumer_loop_test : public ::testing::Test {
 protected:
  void SetUp() override {
    broker_ = std::make_unique<kafka::test::dev_broker>(std::vector<std::string>{"events:3", "single:1"});
  }

  kafka::settings settings() const {
    return {
        {"bootstrap.servers", broker_->bootstrap()}, {"session.timeout.ms", "6000"}, {"heartbeat.interval.ms", "1000"}};
  }

  // Produces values (first..first+n-1, "v<i>") and waits for the acknowledgements.
  void produce(const std::string& topic, int first, int n, std::int32_t partition = -1,
               const std::set<int>& poison = {}) {
    std::mutex m;
    std::condition_variable cv;
    int acked = 0;
    kafka::producer p({{"bootstrap.servers", broker_->bootstrap()}}, [&](const kafka::delivery_report& r) {
      EXPECT_TRUE(r.ok) << r.error;
      std::lock_guard lock(m);
      ++acked;
      cv.notify_all();
    });
    for (int i = first; i < first + n; ++i) {
      const std::string value = (poison.contains(i) ? "p" : "v") + std::to_string(i);
      const std::string key = "k" + std::to_string(i % 7);
      ASSERT_FALSE(p.produce(topic, partition, key, value, {}, static_cast<std::uint64_t>(i)));
    }
    std::unique_lock lock(m);
    ASSERT_TRUE(cv.wait_for(lock, 60s, [&] { return acked == n; }));
  }

  std::unique_ptr<consumer_loop> make_loop(const std::string& group, const std::string& topic,
                                           std::shared_ptr<script> s, std::shared_ptr<sunk> sink = nullptr,
                                           failure_policy policy = {}, bool durable = false,
                                           std::function<void(loop_options&)> adjust = {}) {
    loop_options o;
    o.group = group;
    o.topics = {topic};
    o.max_batch = 50;
    o.batch_wait = 20ms;
    o.retry_backoff = 50ms;
    o.failures = policy;
    if (adjust) adjust(o);
    if (!sink) sink = std::make_shared<sunk>();
    auto loop = std::make_unique<consumer_loop>(settings(), o, std::make_unique<fake_handler>(std::move(s)),
                                                std::make_unique<fake_sink>(std::move(sink), durable));
    loop->start();
    return loop;
  }

  static std::int64_t committed(consumer_loop& loop, std::int32_t partition) {
    for (const auto& [tp, lag] : loop.lag()) {
      if (tp.partition == partition) return tp.offset;
    }
    return -1;
  }

  static std::vector<std::string> values(int first, int n) {
    std::vector<std::string> out;
    for (int i = first; i < first + n; ++i) out.push_back("v" + std::to_string(i));
    return out;
  }

  std::unique_ptr<kafka::test::dev_broker> broker_;
};

TEST_F(consumer_loop_test, a_failing_batch_is_retried_in_place_and_committed_only_after_success) {
  produce("single", 0, 10);
  auto s = std::make_shared<script>();
  s->fail_first = 3;
  auto loop = make_loop("retriers", "single", s);
  ASSERT_TRUE(eventually([&] { return s->done_total() == 10; }, 20s));
  {
    std::lock_guard lock(s->mutex);
    ASSERT_GE(s->calls.size(), 4U);
    // The retries got the very same records, from the first uncommitted one, in order.
    for (int i = 1; i <= 3; ++i) EXPECT_EQ(s->calls[i].front(), s->calls[0].front());
    EXPECT_EQ(s->calls[0].front(), (position{0, 0}));
  }
  EXPECT_EQ(s->done_of(0), values(0, 10)) << "each record handled once, in order";
  EXPECT_EQ(loop->stats().failed_attempts.load(), 3U);
  ASSERT_TRUE(eventually([&] { return committed(*loop, 0) == 10; }, 60s)) << "last processed + 1";
  EXPECT_TRUE(eventually([&] { return !loop->stats().blocked.load(); }, 60s));
  loop->request_stop(clock::now() + 5s);
  loop->join();

  // A new member of the group resumes after the committed offset.
  produce("single", 10, 2);
  auto s2 = std::make_shared<script>();
  auto again = make_loop("retriers", "single", s2);
  ASSERT_TRUE(eventually([&] { return s2->done_total() == 2; }, 30s));
  EXPECT_EQ(s2->done_of(0), values(10, 2));
}

TEST_F(consumer_loop_test, every_settled_batch_is_reported_once_with_its_time_including_retries) {
  produce("single", 0, 10);
  auto s = std::make_shared<script>();
  s->fail_first = 3;
  struct observed {
    std::mutex mutex;
    std::vector<std::pair<std::chrono::nanoseconds, std::size_t>> batches;
  };
  auto seen = std::make_shared<observed>();
  auto loop = make_loop("timed", "single", s, nullptr, {}, false, [seen](loop_options& o) {
    o.on_batch_done = [seen](std::chrono::nanoseconds t, std::size_t records) {
      std::lock_guard lock(seen->mutex);
      seen->batches.emplace_back(t, records);
    };
  });
  ASSERT_TRUE(eventually([&] { return s->done_total() == 10; }, 20s));
  ASSERT_TRUE(eventually([&] { return loop->stats().batches.load() >= 1 && !loop->stats().blocked.load(); }, 60s));
  produce("single", 10, 5);
  ASSERT_TRUE(eventually([&] { return s->done_total() == 15; }, 20s));
  ASSERT_TRUE(eventually([&] { return loop->stats().records.load() == 15; }, 60s));
  loop->request_stop(clock::now() + 5s);
  loop->join();

  std::lock_guard lock(seen->mutex);
  ASSERT_EQ(seen->batches.size(), loop->stats().batches.load()) << "one observation per settled batch";
  std::size_t records = 0;
  for (const auto& [t, n] : seen->batches) records += n;
  EXPECT_EQ(records, 15U);
  // The first batch failed three times, 50 ms of back-off apart: its time includes them.
  EXPECT_GE(seen->batches.front().first, 150ms);
}

TEST_F(consumer_loop_test, poison_records_go_to_the_sink_and_the_partition_moves_on) {
  produce("single", 0, 6, 0, {2, 4});
  auto s = std::make_shared<script>();
  s->poison_values = {"p2", "p4"};
  auto sink = std::make_shared<sunk>();
  auto loop = make_loop("poisoned", "single", s, sink);
  ASSERT_TRUE(eventually([&] { return s->done_total() == 4 && sink->size() == 2; }, 20s));
  EXPECT_EQ(s->done_of(0), (std::vector<std::string>{"v0", "v1", "v3", "v5"}));
  {
    std::lock_guard lock(sink->mutex);
    EXPECT_EQ(sink->records[0].first, (position{0, 2}));
    EXPECT_EQ(sink->records[1].first, (position{0, 4}));
    EXPECT_EQ(sink->records[0].second.error_class, "test_poison");
  }
  ASSERT_TRUE(eventually([&] { return committed(*loop, 0) == 6; }, 60s));
  EXPECT_EQ(loop->stats().poison.load(), 2U);
  // The settled-records counter moves just after the commit: the committed offset can be
  // seen first.
  EXPECT_TRUE(eventually([&] { return loop->stats().records.load() == 6U; }, 60s))
      << "records " << loop->stats().records.load();
}

TEST_F(consumer_loop_test, the_lag_keeps_growing_while_the_loop_is_blocked) {
  produce("single", 0, 5);
  auto s = std::make_shared<script>();
  auto loop = make_loop("laggers", "single", s);
  ASSERT_TRUE(eventually([&] { return committed(*loop, 0) == 5; }, 20s));
  {
    std::lock_guard lock(s->mutex);
    s->fail_always = true;  // the dependency goes away
  }
  produce("single", 5, 5);
  ASSERT_TRUE(eventually([&] { return loop->stats().blocked.load(); }, 20s));
  // Records that arrive while the partition is paused are not fetched, yet they count.
  produce("single", 10, 20);
  auto lag_of_0 = [&] {
    for (const auto& [tp, behind] : loop->lag()) {
      if (tp.partition == 0) return behind;
    }
    return std::int64_t{-2};
  };
  EXPECT_TRUE(eventually([&] { return lag_of_0() == 25; }, 20s)) << "lag " << lag_of_0();
  {
    std::lock_guard lock(s->mutex);
    s->fail_always = false;
  }
  ASSERT_TRUE(eventually([&] { return s->done_total() == 30; }, 20s));
  EXPECT_TRUE(eventually([&] { return lag_of_0() == 0; }, 20s)) << "lag " << lag_of_0();
}

TEST_F(consumer_loop_test, stop_leaves_a_batch_that_keeps_failing_uncommitted) {
  produce("single", 0, 3);
  auto s = std::make_shared<script>();
  s->fail_always = true;
  auto loop = make_loop("stoppers", "single", s);
  ASSERT_TRUE(eventually([&] { return s->call_count() >= 3; }, 20s));
  EXPECT_TRUE(loop->stats().blocked.load());
  const auto asked = clock::now();
  loop->request_stop(asked + 300ms);
  loop->join();
  EXPECT_LT(clock::now() - asked, 20s) << "stop overran its deadline by far";
  EXPECT_EQ(s->done_total(), 0U);
  loop.reset();

  auto s2 = std::make_shared<script>();
  auto again = make_loop("stoppers", "single", s2);
  ASSERT_TRUE(eventually([&] { return s2->done_total() == 3; }, 30s));
  EXPECT_EQ(s2->done_of(0), values(0, 3)) << "nothing was committed: delivered again";
}

TEST_F(consumer_loop_test, dead_letter_policy_gives_up_after_the_retries_into_a_durable_sink) {
  produce("single", 0, 3);
  auto s = std::make_shared<script>();
  s->fail_always = true;
  auto sink = std::make_shared<sunk>();
  auto loop = make_loop("deadletters", "single", s, sink, failure_policy{infra_policy::dead_letter, 2, false}, true);
  ASSERT_TRUE(eventually([&] { return sink->size() == 3; }, 20s));
  {
    std::lock_guard lock(sink->mutex);
    for (const int a : sink->attempts) EXPECT_EQ(a, 3) << "first attempt + 2 retries";
    EXPECT_EQ(sink->records[0].second.kind, failure_kind::retryable);
  }
  ASSERT_TRUE(eventually([&] { return committed(*loop, 0) == 3; }, 60s));
}

TEST_F(consumer_loop_test, the_dead_letter_policy_blocks_when_the_sink_only_logs) {
  produce("single", 0, 2);
  auto s = std::make_shared<script>();
  s->fail_first = 6;
  auto sink = std::make_shared<sunk>();
  auto loop = make_loop("nodlt", "single", s, sink, failure_policy{infra_policy::dead_letter, 2, false}, false);
  ASSERT_TRUE(eventually([&] { return s->done_total() == 2; }, 20s));
  EXPECT_EQ(sink->size(), 0U) << "records are not given up into a sink that would lose them";
}

TEST_F(consumer_loop_test, order_within_each_partition_holds_through_intermittent_failures) {
  produce("events", 0, 300);
  auto s = std::make_shared<script>();
  s->fail_every = 3;
  auto loop = make_loop("orderly", "events", s);
  ASSERT_TRUE(eventually([&] { return s->done_total() == 300; }, 60s));
  std::set<std::string> all;
  for (std::int32_t p = 0; p < 3; ++p) {
    const auto done = s->done_of(p);
    std::vector<int> numbers;
    for (const auto& v : done) numbers.push_back(std::stoi(v.substr(1)));
    EXPECT_TRUE(std::is_sorted(numbers.begin(), numbers.end())) << "partition " << p;
    all.insert(done.begin(), done.end());
  }
  EXPECT_EQ(all.size(), 300U) << "every record handled exactly once";
}

}  // namespace
}  // namespace chat::chatd::pipeline
