#pragma once
// Dead letters as each dialect writes them, for the tests of this folder.
#include "core/bytes.hpp"
#include "core/dead_letter.hpp"
#include "core/dialect.hpp"

#include <string>
#include <vector>

namespace dlt_replay::test {

// chatd's docs/topics.md headers (decimal text, Unix ms), after the original record's own headers.
inline std::vector<header> chat_headers(const std::string& topic = "chat.messages", int partition = 3,
                                        long long offset = 1234) {
  return {
      {"message-key", "3b241101-e2bb-4255-8caf-4136c566a962"},
      {"sent-at", "1763726400000"},
      {"origin-node", "node-a"},
      {"dlt-original-topic", topic},
      {"dlt-original-partition", std::to_string(partition)},
      {"dlt-original-offset", std::to_string(offset)},
      {"dlt-original-timestamp", "1763726400123"},
      {"dlt-consumer-group", "chat-persistence"},
      {"dlt-exception-class", "invalid_json"},
      {"dlt-exception-message", "value is not JSON: unexpected end of input"},
      {"dlt-attempts", "1"},
      {"dlt-failed-at", "1763726460000"},
  };
}

inline dead_letter chat_dead_letter(std::string value = R"({"roomId":42,"content":"hi"})", int partition = 3,
                                    long long offset = 1234) {
  dead_letter d;
  d.dlt = position{"chat.messages.dlt", partition, 7};
  d.timestamp_ms = 1763726460500;
  d.key = "42";
  d.value = std::move(value);
  d.headers = chat_headers("chat.messages", partition, offset);
  d.info = normalise(d.headers);
  return d;
}

// Spring Kafka's DeadLetterPublishingRecoverer: binary partition/offset/timestamp.
inline std::vector<header> spring_headers(const std::string& topic, int partition, long long offset,
                                          const std::string& fqcn, const std::string& message) {
  return {
      {"kafka_dlt-original-topic", topic},
      {"kafka_dlt-original-partition", encode_be_int32(partition)},
      {"kafka_dlt-original-offset", encode_be_int64(offset)},
      {"kafka_dlt-original-timestamp", encode_be_int64(1700000000000)},
      {"kafka_dlt-original-timestamp-type", "CreateTime"},
      {"kafka_dlt-original-consumer-group", "orders-service"},
      {"kafka_dlt-exception-fqcn", fqcn},
      {"kafka_dlt-exception-message", message},
      {"kafka_dlt-exception-stacktrace", fqcn + ": " + message + "\n\tat com.example.Listener.on(Listener.java:42)"},
  };
}

inline std::vector<header> connect_headers() {
  return {
      {"__connect.errors.topic", "orders"},
      {"__connect.errors.partition", "5"},
      {"__connect.errors.offset", "987654"},
      {"__connect.errors.connector.name", "jdbc-sink"},
      {"__connect.errors.task.id", "0"},
      {"__connect.errors.stage", "VALUE_CONVERTER"},
      {"__connect.errors.class.name", "org.apache.kafka.connect.json.JsonConverter"},
      {"__connect.errors.exception.class.name", "org.apache.kafka.connect.errors.DataException"},
      {"__connect.errors.exception.message", "Converting byte[] to Kafka Connect data failed"},
      {"__connect.errors.exception.stacktrace", "org.apache.kafka.connect.errors.DataException: ..."},
  };
}

}  // namespace dlt_replay::test
