#include <chat/kafka/consumer.hpp>
#include <chat/kafka/producer.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <map>
#include <set>
#include <string>

#include "test_support.hpp"

namespace chat::kafka::test {
namespace {

class consumer_test : public kafka_test {
 protected:
  // Produces n records to topic (partition -1 = by key "key-<i % 5>"), value "v<i>", and
  // waits until all are acknowledged.
  void produce_values(const std::string& topic, int first, int n, std::int32_t partition = -1) {
    delivery_log log;
    producer p(client_settings(), log.handler());
    for (int i = first; i < first + n; ++i) {
      const std::string key = "key-" + std::to_string(i % 5);
      const std::string value = "v" + std::to_string(i);
      const std::string index = std::to_string(i);
      const header_view headers[] = {{"index", index}, {"dup", "first"}, {"dup", "second"}, {"empty", ""}};
      ASSERT_FALSE(p.produce(topic, partition, key, value, headers, static_cast<std::uint64_t>(i)));
    }
    ASSERT_EQ(p.flush(60s), 0U);
    for (const auto& r : log.reports()) ASSERT_TRUE(r.ok) << r.error;
  }
};

TEST_F(consumer_test, group_reads_every_record_with_headers_intact) {
  produce_values("events", 0, 30);
  consumer c(consumer_settings(), "readers", {"events"});
  const auto records = consume(c, 30, 60s);
  ASSERT_EQ(records.size(), 30U);

  std::set<std::string> values;
  std::map<std::int32_t, std::int64_t> last_offset;
  for (const auto& r : records) {
    EXPECT_EQ(r.topic(), "events");
    values.insert(std::string(r.value()));
    const std::string index(r.header("index").value_or("?"));
    EXPECT_EQ(r.value(), "v" + index);
    EXPECT_EQ(r.key(), "key-" + std::to_string(std::stoi(index) % 5));
    EXPECT_EQ(r.header("dup"), std::optional<std::string_view>("first"));
    EXPECT_EQ(r.header("empty"), std::optional<std::string_view>(""));
    EXPECT_EQ(r.header("missing"), std::nullopt);
    const auto all = r.headers();
    ASSERT_EQ(all.size(), 4U);
    EXPECT_EQ(all[0].name, "index");
    EXPECT_EQ(all[1].value, "first");
    EXPECT_EQ(all[2].name, "dup");
    EXPECT_EQ(all[2].value, "second");
    EXPECT_GT(r.timestamp_ms(), 1'600'000'000'000);
    // Within a partition, records come in offset order.
    const auto it = last_offset.find(r.partition());
    if (it != last_offset.end()) {
      EXPECT_EQ(r.offset(), it->second + 1);
    }
    last_offset[r.partition()] = r.offset();
  }
  EXPECT_EQ(values.size(), 30U);
  EXPECT_EQ(c.assignment().size(), 3U);
}

TEST_F(consumer_test, a_new_member_resumes_after_the_committed_offset) {
  produce_values("single", 0, 10);
  {
    consumer first(consumer_settings(), "resumers", {"single"});
    const auto records = consume(first, 10, 60s);
    ASSERT_EQ(records.size(), 10U);
    EXPECT_EQ(records[4].offset(), 4);
    // Processed up to offset 4: commit 5, the next to read.
    ASSERT_FALSE(first.commit({{"single", 0, records[4].offset() + 1}}));
    const auto lag = first.lag();
    ASSERT_EQ(lag.size(), 1U);
    EXPECT_EQ(lag[0].first.offset, 5);
    EXPECT_EQ(lag[0].second, 5) << "high watermark 10 - committed 5";
    first.close();
  }
  consumer second(consumer_settings(), "resumers", {"single"});
  const auto records = consume(second, 5, 60s);
  ASSERT_EQ(records.size(), 5U);
  for (std::size_t i = 0; i < records.size(); ++i) {
    EXPECT_EQ(records[i].offset(), static_cast<std::int64_t>(5 + i));
    EXPECT_EQ(records[i].value(), "v" + std::to_string(5 + i));
  }
}

TEST_F(consumer_test, seek_delivers_records_again) {
  produce_values("single", 0, 10);
  consumer c(consumer_settings(), "seekers", {"single"});
  const auto records = consume(c, 10, 60s);
  ASSERT_EQ(records.size(), 10U);
  // librdkafka refuses a seek while the partition's fetcher is in a transient state (for
  // example validating a leader epoch after a metadata refresh): try again until it takes.
  std::error_code seek_error;
  ASSERT_TRUE(eventually(
      [&] {
        seek_error = c.seek({"single", 0, 3});
        return !seek_error;
      },
      60s))
      << seek_error.message();
  const auto again = consume(c, 7, 60s);
  ASSERT_EQ(again.size(), 7U);
  for (std::size_t i = 0; i < again.size(); ++i) {
    EXPECT_EQ(again[i].offset(), static_cast<std::int64_t>(3 + i));
    EXPECT_EQ(again[i].value(), records[3 + i].value());
  }
  // Records stay valid while newer ones are consumed.
  EXPECT_EQ(records[0].value(), "v0");
}

TEST_F(consumer_test, pause_stops_delivery_and_resume_restarts_it) {
  consumer c(consumer_settings(), "pausers", {"single"});
  std::error_code ec;
  ASSERT_TRUE(eventually(
      [&] {
        c.poll(10, 100ms, ec);
        return !c.assignment().empty();
      },
      60s));
  const auto assigned = c.assignment();
  c.pause(assigned);
  produce_values("single", 0, 5);

  // While paused nothing arrives (the records are on the broker: see resume below).
  const auto paused_until = std::chrono::steady_clock::now() + 1500ms;
  std::size_t while_paused = 0;
  while (std::chrono::steady_clock::now() < paused_until) {
    while_paused += c.poll(10, 100ms, ec).size();
  }
  EXPECT_EQ(while_paused, 0U);

  c.resume(assigned);
  const auto records = consume(c, 5, 60s);
  ASSERT_EQ(records.size(), 5U);
  EXPECT_EQ(records[0].offset(), 0);
}

// Records already fetched into the client when pause() is called are not delivered while
// paused; after resume() delivery continues at the next unconsumed offset, once each.
TEST_F(consumer_test, pause_holds_back_records_already_fetched) {
  produce_values("single", 0, 10);
  consumer c(consumer_settings(), "prefetchers", {"single"});
  const auto first = consume(c, 2, 60s);
  ASSERT_EQ(first.size(), 2U);
  EXPECT_EQ(first[1].offset(), 1);
  const auto assigned = c.assignment();
  ASSERT_EQ(assigned.size(), 1U);
  c.pause(assigned);

  std::error_code ec;
  const auto paused_until = std::chrono::steady_clock::now() + 1500ms;
  std::size_t while_paused = 0;
  while (std::chrono::steady_clock::now() < paused_until) {
    while_paused += c.poll(10, 100ms, ec).size();
  }
  EXPECT_EQ(while_paused, 0U);

  c.resume(assigned);
  const auto rest = consume(c, 8, 60s);
  ASSERT_EQ(rest.size(), 8U);
  for (std::size_t i = 0; i < rest.size(); ++i) EXPECT_EQ(rest[i].offset(), static_cast<std::int64_t>(2 + i));
  EXPECT_TRUE(c.poll(10, 300ms, ec).empty()) << "a record was delivered twice";
}

TEST_F(consumer_test, rebalance_callbacks_see_assigned_and_revoked_partitions) {
  std::vector<topic_partition> assigned;
  std::vector<topic_partition> revoked;
  consumer c(consumer_settings(), "watchers", {"events"});
  c.on_assign([&](const std::vector<topic_partition>& p) { assigned = p; });
  c.on_revoke([&](const std::vector<topic_partition>& p) { revoked = p; });
  std::error_code ec;
  ASSERT_TRUE(eventually(
      [&] {
        c.poll(10, 100ms, ec);
        return !assigned.empty();
      },
      60s));
  std::sort(assigned.begin(), assigned.end(), [](const auto& a, const auto& b) { return a.partition < b.partition; });
  ASSERT_EQ(assigned.size(), 3U);
  for (std::int32_t i = 0; i < 3; ++i) {
    EXPECT_EQ(assigned[i].topic, "events");
    EXPECT_EQ(assigned[i].partition, i);
  }
  EXPECT_TRUE(revoked.empty());
  c.close();
  EXPECT_EQ(revoked.size(), 3U);
  EXPECT_TRUE(c.poll(10, 10ms, ec).empty());
}

// Eager protocol: when a second member joins, the first gives up everything and both get
// a share. On the mock the rebalance completes session.timeout.ms - 1 s after the join; a
// member starved past that deadline (a loaded CI machine) is dropped and rejoins, which is
// a second round and a second revocation, so the deadline is generous and the count is a
// lower bound. What must hold: the first member was told, and the shares never overlap.
TEST_F(consumer_test, two_members_split_the_partitions) {
  consumer a(consumer_settings(), "splitters", {"events"});
  std::error_code ec;
  ASSERT_TRUE(eventually(
      [&] {
        a.poll(10, 50ms, ec);
        return a.assignment().size() == 3;
      },
      60s));
  std::size_t a_revocations = 0;
  a.on_revoke([&](const std::vector<topic_partition>&) { ++a_revocations; });

  consumer b(consumer_settings(), "splitters", {"events"});
  ASSERT_TRUE(eventually(
      [&] {
        a.poll(10, 50ms, ec);
        b.poll(10, 50ms, ec);
        return a.assignment().size() + b.assignment().size() == 3 && !b.assignment().empty() && !a.assignment().empty();
      },
      60s));
  EXPECT_GE(a_revocations, 1U);
  std::set<std::int32_t> partitions;
  for (const auto& tp : a.assignment()) partitions.insert(tp.partition);
  for (const auto& tp : b.assignment()) partitions.insert(tp.partition);
  EXPECT_EQ(partitions.size(), 3U) << "assignments overlap";
}

// The wrapper also follows the cooperative protocol when a caller asks for it.
TEST_F(consumer_test, cooperative_sticky_assignment_works_with_the_dev_broker) {
  produce_values("events", 0, 6);
  std::vector<topic_partition> revoked;
  consumer c(consumer_settings({{"partition.assignment.strategy", "cooperative-sticky"}}), "cooperators", {"events"});
  c.on_revoke([&](const std::vector<topic_partition>& p) { revoked = p; });
  const auto records = consume(c, 6, 60s);
  EXPECT_EQ(records.size(), 6U);
  EXPECT_EQ(c.assignment().size(), 3U);
  c.close();
  EXPECT_EQ(revoked.size(), 3U);
}

TEST_F(consumer_test, records_outlive_their_consumer) {
  produce_values("single", 0, 2);
  std::vector<record> kept;
  {
    consumer c(consumer_settings(), "keepers", {"single"});
    kept = consume(c, 2, 60s);
  }
  ASSERT_EQ(kept.size(), 2U);
  EXPECT_EQ(kept[1].value(), "v1");
  record moved = std::move(kept[0]);
  EXPECT_EQ(moved.value(), "v0");
}

}  // namespace
}  // namespace chat::kafka::test
