#include <chat/kafka/producer.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <set>
#include <string>

#include "test_support.hpp"

namespace chat::kafka::test {
namespace {

// Kafka's Java partitioner: Utils.murmur2 (seed 0x9747b28c), then toPositive % n.
std::uint32_t java_murmur2(std::string_view key) {
  const std::uint32_t m = 0x5bd1e995;
  const int r = 24;
  const auto* data = reinterpret_cast<const unsigned char*>(key.data());
  const std::size_t length = key.size();
  std::uint32_t h = 0x9747b28cU ^ static_cast<std::uint32_t>(length);
  for (std::size_t i = 0; i + 4 <= length; i += 4) {
    std::uint32_t k = data[i] | (data[i + 1] << 8) | (data[i + 2] << 16) | (std::uint32_t(data[i + 3]) << 24);
    k *= m;
    k ^= k >> r;
    k *= m;
    h *= m;
    h ^= k;
  }
  const std::size_t tail = length & ~std::size_t{3};
  switch (length % 4) {
    case 3: h ^= std::uint32_t(data[tail + 2]) << 16; [[fallthrough]];
    case 2: h ^= std::uint32_t(data[tail + 1]) << 8; [[fallthrough]];
    case 1: h ^= data[tail]; h *= m;
  }
  h ^= h >> 13;
  h *= m;
  h ^= h >> 15;
  return h;
}

std::int32_t java_partition(std::string_view key, int partitions) {
  return static_cast<std::int32_t>((java_murmur2(key) & 0x7fffffffU) % static_cast<std::uint32_t>(partitions));
}

class producer_test : public kafka_test {};

// Recovery (chatd) finds a room's partition without producing: the same answer as the producer's.
TEST(key_partition, is_the_java_clients_partition) {
  for (const int partitions : {1, 3, 6, 7}) {
    for (int room = 1; room <= 200; ++room) {
      const auto key = std::to_string(room);
      EXPECT_EQ(key_partition(key, partitions), java_partition(key, partitions)) << key << " of " << partitions;
    }
  }
}

TEST_F(producer_test, every_record_is_reported_once_with_its_cookie_and_increasing_offsets) {
  delivery_log log;
  producer p(client_settings(), log.handler());
  constexpr std::uint64_t n = 60;
  for (std::uint64_t i = 0; i < n; ++i) {
    const std::string key = "room-" + std::to_string(i % 7);
    const std::string value = "value-" + std::to_string(i);
    const std::string message_key = "k" + std::to_string(i);
    const std::string sent_at = std::to_string(1000 + i);
    const header_view headers[] = {{"message-key", message_key}, {"sent-at", sent_at}};
    ASSERT_FALSE(p.produce("events", -1, key, value, headers, 1000 + i));
  }
  EXPECT_EQ(p.flush(60s), 0U);
  EXPECT_EQ(p.in_flight(), 0U);

  const auto reports = log.reports();
  ASSERT_EQ(reports.size(), n);
  std::set<std::uint64_t> cookies;
  std::map<std::int32_t, std::vector<std::pair<std::uint64_t, std::int64_t>>> by_partition;  // cookie, offset
  for (const auto& r : reports) {
    EXPECT_TRUE(r.ok) << r.error;
    EXPECT_FALSE(r.code);
    EXPECT_TRUE(cookies.insert(r.cookie).second) << "cookie reported twice: " << r.cookie;
    ASSERT_GE(r.partition, 0);
    ASSERT_LT(r.partition, 3);
    by_partition[r.partition].emplace_back(r.cookie, r.offset);
  }
  EXPECT_EQ(*cookies.begin(), 1000U);
  EXPECT_EQ(*cookies.rbegin(), 1000U + n - 1);
  for (auto& [partition, entries] : by_partition) {
    // Produced in cookie order, so a partition's offsets rise with the cookie: 0, 1, 2, ...
    std::sort(entries.begin(), entries.end());
    for (std::size_t i = 0; i < entries.size(); ++i) {
      EXPECT_EQ(entries[i].second, static_cast<std::int64_t>(i)) << "partition " << partition;
    }
  }
}

TEST_F(producer_test, a_key_always_lands_on_the_partition_a_java_client_would_choose) {
  delivery_log log;
  producer p(client_settings(), log.handler());
  std::vector<std::string> keys;
  for (int i = 0; i < 24; ++i) keys.push_back(std::to_string(i * 37 + 1));  // room ids
  std::uint64_t cookie = 0;
  for (int round = 0; round < 3; ++round) {
    for (const auto& k : keys) ASSERT_FALSE(p.produce("events", -1, k, "x", {}, cookie++));
  }
  ASSERT_EQ(p.flush(60s), 0U);
  const auto reports = log.reports();
  ASSERT_EQ(reports.size(), cookie);
  std::set<std::int32_t> used;
  for (const auto& r : reports) {
    ASSERT_TRUE(r.ok) << r.error;
    const auto& key = keys[r.cookie % keys.size()];
    EXPECT_EQ(r.partition, java_partition(key, 3)) << "key " << key;
    used.insert(r.partition);
  }
  EXPECT_EQ(used.size(), 3U) << "24 keys should spread over all partitions";
}

TEST_F(producer_test, explicit_partition_is_used) {
  delivery_log log;
  producer p(client_settings(), log.handler());
  ASSERT_FALSE(p.produce("events", 2, "any-key", "v", {}, 7));
  ASSERT_TRUE(log.wait_for(1, 60s));
  const auto r = log.reports().at(0);
  EXPECT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.partition, 2);
  EXPECT_EQ(r.cookie, 7U);
}

TEST_F(producer_test, flush_with_nothing_in_flight_returns_zero_at_once_and_stop_refuses_more) {
  delivery_log log;
  producer p(client_settings(), log.handler());
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(p.flush(60s), 0U);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 20s) << "flush waited for its deadline";

  ASSERT_FALSE(p.produce("events", -1, "k", "v", {}, 1));
  p.stop(60s);
  ASSERT_EQ(log.reports().size(), 1U);
  EXPECT_TRUE(log.reports()[0].ok);
  const auto ec = p.produce("events", -1, "k", "v", {}, 2);
  EXPECT_EQ(ec, errc::fatal) << ec.message();
  p.stop(1s);  // idempotent
  EXPECT_EQ(log.reports().size(), 1U);
}

TEST_F(producer_test, full_queue_is_refused_with_queue_full_and_stop_reports_the_purged) {
  delivery_log log;
  // Caller settings override the defaults: a long linger keeps the records queued.
  producer p(client_settings({{"queue.buffering.max.messages", "3"}, {"linger.ms", "20000"}}), log.handler());
  for (std::uint64_t i = 0; i < 3; ++i) ASSERT_FALSE(p.produce("events", 0, "k", "v", {}, i));
  const auto ec = p.produce("events", 0, "k", "v", {}, 3);
  EXPECT_EQ(ec, errc::queue_full) << ec.message();
  EXPECT_EQ(classify(ec), errc::queue_full);
  EXPECT_EQ(p.in_flight(), 3U);

  p.stop(0ms);
  const auto reports = log.reports();
  ASSERT_EQ(reports.size(), 3U);
  for (const auto& r : reports) {
    EXPECT_FALSE(r.ok);
    EXPECT_FALSE(r.error.empty());
    EXPECT_LT(r.cookie, 3U);
  }
  EXPECT_EQ(p.in_flight(), 0U);
}

TEST_F(producer_test, oversized_record_is_refused_at_produce) {
  delivery_log log;
  producer p(client_settings({{"message.max.bytes", "10000"}}), log.handler());
  const std::string big(20000, 'x');
  const auto ec = p.produce("events", -1, "k", big, {}, 1);
  EXPECT_EQ(ec, errc::message_too_large) << ec.message();
  EXPECT_EQ(p.in_flight(), 0U);
}

TEST_F(producer_test, invalid_setting_throws_at_construction) {
  EXPECT_THROW(producer(client_settings({{"no.such.property", "1"}}), [](const delivery_report&) {}),
               std::runtime_error);
}

}  // namespace
}  // namespace chat::kafka::test
