#include "core/dialect.hpp"

#include <gtest/gtest.h>

#include "fixtures.hpp"

namespace dlt_replay {
namespace {

using test::chat_headers;
using test::connect_headers;
using test::spring_headers;

TEST(chat_dialect, reads_every_section_5_header) {
  const auto info = normalise(chat_headers());
  EXPECT_EQ(info.kind, dialect::chat);
  EXPECT_EQ(info.origin_topic, "chat.messages");
  EXPECT_EQ(info.origin_partition, 3);
  EXPECT_EQ(info.origin_offset, 1234);
  EXPECT_EQ(info.origin_timestamp_ms, 1763726400123);
  EXPECT_EQ(info.consumer_group, "chat-persistence");
  EXPECT_EQ(info.error_class, "invalid_json");
  EXPECT_EQ(info.error_message, "value is not JSON: unexpected end of input");
  EXPECT_EQ(info.attempts, 1);
  EXPECT_EQ(info.failed_at_ms, 1763726460000);
  EXPECT_EQ(info.dead_letter_count, 1);
  EXPECT_EQ(info.replay_count, 0);
  EXPECT_TRUE(info.problems.empty());
}

TEST(chat_dialect, accepts_rfc3339_timestamps_too) {
  auto hs = chat_headers();
  for (auto& h : hs) {
    if (h.name == "dlt-failed-at") h.value = "2025-11-21T12:01:00.000Z";
  }
  EXPECT_EQ(normalise(hs).failed_at_ms, 1763726460000);
}

TEST(chat_dialect, reports_undecodable_headers_and_keeps_the_rest) {
  auto hs = chat_headers();
  for (auto& h : hs) {
    if (h.name == "dlt-original-partition") h.value = "three";
    if (h.name == "dlt-original-offset") h.value = "99999999999999999999";
  }
  const auto info = normalise(hs);
  EXPECT_EQ(info.origin_partition, std::nullopt);
  EXPECT_EQ(info.origin_offset, std::nullopt);
  EXPECT_EQ(info.origin_topic, "chat.messages");
  ASSERT_EQ(info.problems.size(), 2U);
  EXPECT_NE(info.problems[0].find("dlt-original-partition"), std::string::npos);
}

TEST(chat_dialect, replay_headers_are_read_in_any_dialect) {
  auto hs = chat_headers();
  hs.push_back({"dlt-replayed-from", "chat.messages.dlt:3:7"});
  hs.push_back({"dlt-replay-count", "2"});
  hs.push_back({"dlt-replayed-at", "1763726500000"});
  auto info = normalise(hs);
  EXPECT_EQ(info.replay_count, 2);
  EXPECT_EQ(info.replayed_from, "chat.messages.dlt:3:7");
  EXPECT_EQ(info.replayed_at_ms, 1763726500000);

  auto spring = spring_headers("orders", 1, 2, "E", "m");
  spring.push_back({"dlt-replay-count", "5"});
  info = normalise(spring);
  EXPECT_EQ(info.kind, dialect::spring);
  EXPECT_EQ(info.replay_count, 5);
}

TEST(chat_dialect, replay_headers_alone_are_no_dialect) {
  const std::vector<header> hs{{"dlt-replay-count", "1"}, {"message-key", "k"}};
  const auto info = normalise(hs);
  EXPECT_EQ(info.kind, dialect::none);
  EXPECT_EQ(info.replay_count, 1);
  EXPECT_EQ(info.origin_topic, std::nullopt);
}

TEST(spring_dialect, decodes_big_endian_partition_offset_and_timestamp) {
  const auto info = normalise(spring_headers("orders", 3, 1234,
                                             "org.springframework.kafka.support.serializer."
                                             "DeserializationException",
                                             "failed to deserialize; nested exception is ..."));
  EXPECT_EQ(info.kind, dialect::spring);
  EXPECT_EQ(info.origin_topic, "orders");
  EXPECT_EQ(info.origin_partition, 3);
  EXPECT_EQ(info.origin_offset, 1234);
  EXPECT_EQ(info.origin_timestamp_ms, 1700000000000);
  EXPECT_EQ(info.consumer_group, "orders-service");
  EXPECT_EQ(info.error_class, "org.springframework.kafka.support.serializer.DeserializationException");
  EXPECT_EQ(info.error_message, "failed to deserialize; nested exception is ...");
  ASSERT_TRUE(info.stacktrace.has_value());
  EXPECT_NE(info.stacktrace->find("Listener.java:42"), std::string::npos);
  EXPECT_EQ(info.dead_letter_count, 1);
  EXPECT_TRUE(info.problems.empty());
}

TEST(spring_dialect, twice_dead_lettered_first_original_is_the_origin_last_exception_the_failure) {
  // Dead-lettered from "orders" (partition 3, offset 1234), replayed through "orders-retry",
  // dead-lettered again: Spring appended a second set of headers.
  auto hs = spring_headers("orders", 3, 1234, "java.lang.IllegalStateException", "first failure");
  const auto second = spring_headers("orders-retry", 0, 17, "java.lang.NullPointerException", "second failure");
  hs.insert(hs.end(), second.begin(), second.end());
  const auto info = normalise(hs);
  EXPECT_EQ(info.origin_topic, "orders");
  EXPECT_EQ(info.origin_partition, 3);
  EXPECT_EQ(info.origin_offset, 1234);
  EXPECT_EQ(info.consumer_group, "orders-service");
  EXPECT_EQ(info.error_class, "java.lang.NullPointerException");
  EXPECT_EQ(info.error_message, "second failure");
  EXPECT_EQ(info.dead_letter_count, 2);
}

TEST(spring_dialect, wrong_length_binary_is_a_problem_not_a_guess) {
  auto hs = spring_headers("orders", 3, 1234, "E", "m");
  for (auto& h : hs) {
    if (h.name == "kafka_dlt-original-partition") h.value = std::string("\0\3", 2);
  }
  const auto info = normalise(hs);
  EXPECT_EQ(info.origin_partition, std::nullopt);
  ASSERT_EQ(info.problems.size(), 1U);
  EXPECT_NE(info.problems[0].find("4-byte"), std::string::npos);
}

TEST(spring_dialect, decimal_text_from_non_java_writers_is_accepted) {
  const std::vector<header> hs{{"kafka_dlt-original-topic", "orders"},
                               {"kafka_dlt-original-partition", "4"},
                               {"kafka_dlt-original-offset", "77"}};
  const auto info = normalise(hs);
  EXPECT_EQ(info.origin_partition, 4);
  EXPECT_EQ(info.origin_offset, 77);
}

TEST(spring_dialect, key_deserialization_failure) {
  const std::vector<header> hs{{"kafka_dlt-original-topic", "orders"},
                               {"kafka_dlt-key-exception-fqcn", "org.example.BadKey"},
                               {"kafka_dlt-key-exception-message", "key is not a UUID"}};
  const auto info = normalise(hs);
  EXPECT_EQ(info.error_class, "org.example.BadKey");
  EXPECT_EQ(info.error_message, "key is not a UUID");
}

TEST(connect_dialect, reads_string_headers) {
  const auto info = normalise(connect_headers());
  EXPECT_EQ(info.kind, dialect::connect);
  EXPECT_EQ(info.origin_topic, "orders");
  EXPECT_EQ(info.origin_partition, 5);
  EXPECT_EQ(info.origin_offset, 987654);
  EXPECT_EQ(info.connector, "jdbc-sink");
  EXPECT_EQ(info.task_id, "0");
  EXPECT_EQ(info.stage, "VALUE_CONVERTER");
  EXPECT_EQ(info.consumer_group, std::nullopt);
  EXPECT_EQ(info.error_class, "org.apache.kafka.connect.errors.DataException");
  EXPECT_EQ(info.error_message, "Converting byte[] to Kafka Connect data failed");
  EXPECT_TRUE(info.problems.empty());
}

TEST(no_dialect, plain_records_have_no_origin) {
  const std::vector<header> hs{{"trace-id", "abc"}};
  const auto info = normalise(hs);
  EXPECT_EQ(info.kind, dialect::none);
  EXPECT_EQ(info.origin_topic, std::nullopt);
  EXPECT_EQ(info.dead_letter_count, 0);
  EXPECT_EQ(normalise({}).kind, dialect::none);
}

TEST(dead_letter_headers, are_recognised_in_every_dialect) {
  for (const char* name : {"dlt-original-topic", "dlt-replay-count", "dlt-parked-from", "kafka_dlt-original-offset",
                           "kafka_dlt-exception-stacktrace", "__connect.errors.topic"}) {
    EXPECT_TRUE(is_dead_letter_header(name)) << name;
  }
  for (const char* name : {"message-key", "sent-at", "origin-node", "kafka_correlationId", "traceparent"}) {
    EXPECT_FALSE(is_dead_letter_header(name)) << name;
  }
}

TEST(describe, decodes_numbers_and_marks_timestamps) {
  auto m = describe({"kafka_dlt-original-partition", encode_be_int32(3)});
  EXPECT_EQ(m.number, 3);
  EXPECT_TRUE(m.binary);
  EXPECT_FALSE(m.timestamp);
  m = describe({"kafka_dlt-original-timestamp", encode_be_int64(1700000000000)});
  EXPECT_EQ(m.number, 1700000000000);
  EXPECT_TRUE(m.timestamp);
  m = describe({"dlt-failed-at", "1763726460000"});
  EXPECT_EQ(m.number, 1763726460000);
  EXPECT_TRUE(m.timestamp);
  EXPECT_FALSE(m.binary);
  m = describe({"dlt-original-offset", "12"});
  EXPECT_EQ(m.number, 12);
  m = describe({"dlt-exception-message", "12"});
  EXPECT_EQ(m.number, std::nullopt);
  m = describe({"kafka_dlt-original-partition", "xx"});
  EXPECT_EQ(m.number, std::nullopt);
  EXPECT_FALSE(m.binary);
}

TEST(positions, round_trip_as_text) {
  const position p{"chat.messages.dlt", 3, 17};
  EXPECT_EQ(to_string(p), "chat.messages.dlt:3:17");
  EXPECT_EQ(parse_position("chat.messages.dlt:3:17"), p);
  EXPECT_EQ(parse_position("a:b:3:17"), (position{"a:b", 3, 17}));
  for (const char* bad : {"", "topic", "topic:3", ":3:17", "t:x:1", "t:1:-1", "t:-1:1"}) {
    EXPECT_EQ(parse_position(bad), std::nullopt) << bad;
  }
}

}  // namespace
}  // namespace dlt_replay
