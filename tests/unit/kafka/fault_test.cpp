#include <chat/kafka/consumer.hpp>
#include <chat/kafka/producer.hpp>

#include <gtest/gtest.h>

#include "test_support.hpp"

namespace chat::kafka::test {
namespace {

class fault_test : public kafka_test {
 protected:
  // Fast reconnects so that broker-up is noticed quickly.
  settings fast_reconnect(settings extra = {}) const {
    extra.emplace_back("reconnect.backoff.ms", "50");
    extra.emplace_back("reconnect.backoff.max.ms", "500");
    return client_settings(extra);
  }
};

TEST_F(fault_test, broker_down_holds_the_acknowledgement_until_broker_up) {
  delivery_log log;
  producer p(fast_reconnect(), log.handler());
  ASSERT_FALSE(p.produce("events", -1, "k", "before", {}, 1));
  ASSERT_TRUE(log.wait_for(1, 60s));
  ASSERT_TRUE(log.reports()[0].ok);

  ASSERT_EQ(broker_->control("broker-down 1").rfind("ok", 0), 0U);
  ASSERT_FALSE(p.produce("events", -1, "k", "during", {}, 2));
  EXPECT_FALSE(log.wait_for(2, 2s)) << "acknowledged while the broker was down";
  EXPECT_EQ(p.in_flight(), 1U);

  ASSERT_EQ(broker_->control("broker-up 1").rfind("ok", 0), 0U);
  ASSERT_TRUE(log.wait_for(2, 60s));
  const auto r = log.reports()[1];
  EXPECT_EQ(r.cookie, 2U);
  EXPECT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.offset, 1) << "same key, same partition, next offset";
}

TEST_F(fault_test, broker_down_fails_the_record_after_message_timeout) {
  delivery_log log;
  producer p(fast_reconnect({{"message.timeout.ms", "2000"}}), log.handler());
  ASSERT_FALSE(p.produce("events", -1, "k", "before", {}, 1));
  ASSERT_TRUE(log.wait_for(1, 60s));

  ASSERT_EQ(broker_->control("broker-down 1").rfind("ok", 0), 0U);
  const auto start = std::chrono::steady_clock::now();
  ASSERT_FALSE(p.produce("events", -1, "k", "during", {}, 2));
  ASSERT_TRUE(log.wait_for(2, 60s));
  const auto r = log.reports()[1];
  EXPECT_EQ(r.cookie, 2U);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.code, errc::timed_out) << r.code.message();
  EXPECT_GE(std::chrono::steady_clock::now() - start, 1900ms);
}

// The development broker (like a Kafka with auto.create.topics.enable) creates any topic
// a client asks for, so a missing topic is simulated with the control port's
// "topic-error": its metadata then answers UNKNOWN_TOPIC_OR_PART.
//
// produce() accepts a record for a topic it has no metadata for; the failure arrives in
// the delivery report once topic.metadata.propagation.max.ms (default 30 s) has passed
// with the topic still missing, or at message.timeout.ms, whichever comes first.
TEST_F(fault_test, unknown_topic_is_reported_in_the_delivery_report) {
  ASSERT_EQ(broker_->control("topic-error ghost UNKNOWN_TOPIC_OR_PART").rfind("ok", 0), 0U);
  delivery_log log;
  producer p(client_settings({{"topic.metadata.propagation.max.ms", "1000"}}), log.handler());
  ASSERT_FALSE(p.produce("ghost", -1, "k", "v", {}, 41));
  ASSERT_TRUE(log.wait_for(1, 60s));
  const auto r = log.reports()[0];
  EXPECT_EQ(r.cookie, 41U);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.code, errc::unknown_topic) << r.code.message();
  // in_flight() drops after the handler returned, so flush() == 0 means "all handled".
  EXPECT_EQ(p.flush(5s), 0U);
}

TEST_F(fault_test, explicit_partition_beyond_the_topic_is_refused) {
  delivery_log log;
  producer p(client_settings(), log.handler());
  // Learn the topic's metadata first: until then the partition cannot be checked.
  ASSERT_FALSE(p.produce("single", 0, "k", "v", {}, 1));
  ASSERT_TRUE(log.wait_for(1, 60s));
  const auto ec = p.produce("single", 5, "k", "v", {}, 2);
  EXPECT_EQ(ec, errc::unknown_topic) << ec.message();
}

TEST_F(fault_test, consumer_reports_an_unknown_topic_through_poll) {
  ASSERT_EQ(broker_->control("topic-error ghost UNKNOWN_TOPIC_OR_PART").rfind("ok", 0), 0U);
  consumer c(consumer_settings(), "ghost-readers", {"ghost"});
  std::error_code seen;
  ASSERT_TRUE(eventually(
      [&] {
        std::error_code ec;
        c.poll(10, 100ms, ec);
        if (ec) seen = ec;
        return static_cast<bool>(seen);
      },
      60s));
  EXPECT_EQ(seen, errc::unknown_topic) << seen.message();
}

}  // namespace
}  // namespace chat::kafka::test
