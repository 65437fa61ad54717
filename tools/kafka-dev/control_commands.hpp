// The control protocol of chat-kafka-dev: one command per line in, one reply line out,
// starting with "ok" or "error". Tests use it to inject broker faults.
//
//   ping                                  -> ok pong
//   info                                  -> ok {"bootstrap":...,"control":...,...}
//   help                                  -> ok <command list>
//   broker-down ID | broker-up ID         -> ok
//   broker-rtt ID MS                      -> ok
//   request-errors APIKEY ERR [ERR...]    -> ok  (next requests of that API fail, in order)
//   clear-errors APIKEY                   -> ok
//   topic-create NAME PARTITIONS          -> ok
//   topic-error NAME ERR                  -> ok  (ERR 0 / NO_ERROR clears it)
//   partition-leader TOPIC PARTITION ID   -> ok
//
// APIKEY is a number or a Kafka API name (Produce, Fetch, OffsetCommit, ...); ERR is a
// number or a Kafka error name (NOT_LEADER_FOR_PARTITION, REQUEST_TIMED_OUT, ...),
// case-insensitive.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace kafka_dev {

class mock_cluster;

std::optional<int16_t> parse_api_key(std::string_view text);
std::optional<int> parse_error_code(std::string_view text);

class control_commands {
 public:
  // info_json is called for "info"; it returns the same JSON as the info file.
  control_commands(mock_cluster& cluster, std::function<std::string()> info_json);

  // Executes one command line (without its newline) and returns the reply (without
  // newline). Never throws for bad input.
  std::string execute(std::string_view line);

 private:
  mock_cluster& cluster_;
  std::function<std::string()> info_json_;
};

}  // namespace kafka_dev
