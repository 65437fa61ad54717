#include <chat/kafka/admin.hpp>
#include <chat/kafka/producer.hpp>
#include <chat/kafka/reader.hpp>

#include <gtest/gtest.h>

#include <string>

#include "test_support.hpp"

namespace chat::kafka::test {
namespace {

class reader_test : public kafka_test {
 protected:
  void produce_values(const std::string& topic, std::int32_t partition, int n) {
    delivery_log log;
    producer p(client_settings(), log.handler());
    for (int i = 0; i < n; ++i) {
      const std::string value = "v" + std::to_string(i);
      const header_view headers[] = {{"index", value}};
      ASSERT_FALSE(p.produce(topic, partition, "k", value, headers, static_cast<std::uint64_t>(i)));
    }
    ASSERT_EQ(p.flush(60s), 0U);
    for (const auto& r : log.reports()) ASSERT_TRUE(r.ok) << r.error;
  }

  // Polls until `partition` reports its end; returns the records read before it.
  std::vector<record> read_to_end(reader& r, std::int32_t partition, std::chrono::milliseconds timeout) {
    std::vector<record> out;
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      std::vector<topic_partition> at_end;
      std::error_code ec;
      auto batch = r.poll(100, 100ms, at_end, ec);
      EXPECT_FALSE(ec) << ec.message();
      for (auto& rec : batch) out.push_back(std::move(rec));
      for (const auto& tp : at_end) {
        if (tp.partition == partition) return out;
      }
    }
    ADD_FAILURE() << "no end of partition " << partition << " within the timeout";
    return out;
  }
};

TEST_F(reader_test, reads_a_partition_from_an_offset_to_its_end_without_a_group) {
  produce_values("events", 1, 5);
  reader r(client_settings());
  watermarks w;
  ASSERT_FALSE(r.query_watermarks("events", 1, w, 60s));
  EXPECT_EQ(w.low, 0);
  EXPECT_EQ(w.high, 5);
  ASSERT_FALSE(r.query_watermarks("events", 2, w, 60s));
  EXPECT_EQ(w.high, 0);

  ASSERT_FALSE(r.assign({{"events", 1, 2}}));
  const auto records = read_to_end(r, 1, 60s);
  ASSERT_EQ(records.size(), 3U);
  for (std::size_t i = 0; i < records.size(); ++i) {
    EXPECT_EQ(records[i].offset(), static_cast<std::int64_t>(2 + i));
    EXPECT_EQ(records[i].value(), "v" + std::to_string(2 + i));
    EXPECT_EQ(records[i].header("index"), records[i].value());
  }

  // A new assignment replaces the old one; -2 is the oldest record.
  ASSERT_FALSE(r.assign({{"events", 1, -2}}));
  EXPECT_EQ(read_to_end(r, 1, 60s).size(), 5U);
}

TEST_F(reader_test, records_outlive_the_reader) {
  produce_values("single", 0, 1);
  std::vector<record> kept;
  {
    reader r(client_settings());
    ASSERT_FALSE(r.assign({{"single", 0, 0}}));
    kept = read_to_end(r, 0, 60s);
  }
  ASSERT_EQ(kept.size(), 1U);
  EXPECT_EQ(kept[0].value(), "v0");
}

TEST_F(reader_test, admin_request_topic_creates_on_a_cluster_that_auto_creates) {
  admin a(client_settings());
  EXPECT_EQ(a.partition_count("fresh-topic", 5s), -1);  // asking for all topics creates nothing
  EXPECT_EQ(a.request_topic("fresh-topic", 60s), 4);    // the development broker's default
  EXPECT_EQ(a.partition_count("fresh-topic", 5s), 4);
  EXPECT_EQ(a.request_topic("events", 60s), 3);
}

}  // namespace
}  // namespace chat::kafka::test
