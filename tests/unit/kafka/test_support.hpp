#pragma once
// Helpers shared by the Kafka tests: a broker per test, delivery collection, waiting
// for conditions with a deadline (never a fixed sleep as synchronisation).
#include <chat/kafka/consumer.hpp>
#include <chat/kafka/producer.hpp>

#include <chat_test/eventually.hpp>
#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "dev_broker.hpp"

namespace chat::kafka::test {

using namespace std::chrono_literals;

using ::chat::test::eventually;

// Collects delivery reports from the producer's poll thread.
class delivery_log {
 public:
  producer::delivery_handler handler() {
    return [this](const delivery_report& r) {
      std::lock_guard lock(mutex_);
      reports_.push_back(r);
      changed_.notify_all();
    };
  }

  // True when at least n reports arrived within timeout.
  bool wait_for(std::size_t n, std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, timeout, [&] { return reports_.size() >= n; });
  }

  std::vector<delivery_report> reports() {
    std::lock_guard lock(mutex_);
    return reports_;
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<delivery_report> reports_;
};

// Polls until `n` records arrived or `timeout` passed; fails the test on consumer errors
// other than transient ones.
inline std::vector<record> consume(consumer& c, std::size_t n, std::chrono::milliseconds timeout) {
  std::vector<record> out;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (out.size() < n && std::chrono::steady_clock::now() < deadline) {
    std::error_code ec;
    auto batch = c.poll(n - out.size(), 200ms, ec);
    EXPECT_FALSE(ec) << ec.message();
    for (auto& r : batch) out.push_back(std::move(r));
  }
  return out;
}

// A fresh broker per test, so tests share no state.
class kafka_test : public ::testing::Test {
 protected:
  // Topics of this test as "name:partitions".
  virtual std::vector<std::string> topics() const { return {"events:3", "single:1"}; }

  void SetUp() override { broker_ = std::make_unique<dev_broker>(topics()); }
  void TearDown() override { broker_.reset(); }

  settings client_settings(settings extra = {}) const {
    settings s{{"bootstrap.servers", broker_->bootstrap()}};
    s.insert(s.end(), extra.begin(), extra.end());
    return s;
  }

  // The mock coordinator waits session.timeout.ms - 1 s before completing a rebalance in
  // which a member left or joined an active group (45 s with the default), so group
  // members in tests use a short session.
  settings consumer_settings(settings extra = {}) const {
    extra.emplace_back("session.timeout.ms", "6000");
    extra.emplace_back("heartbeat.interval.ms", "1000");
    return client_settings(std::move(extra));
  }

  std::unique_ptr<dev_broker> broker_;
};

}  // namespace chat::kafka::test
