#include "control_commands.hpp"

#include <librdkafka/rdkafka.h>

#include <array>
#include <charconv>
#include <limits>
#include <vector>

#include "log.hpp"
#include "mock_cluster.hpp"

namespace kafka_dev {
namespace {

struct named_value {
  std::string_view name;
  int value;
};

// Kafka protocol API keys, as in the Kafka protocol guide.
constexpr std::array api_keys{
    named_value{"Produce", 0},
    named_value{"Fetch", 1},
    named_value{"ListOffsets", 2},
    named_value{"Metadata", 3},
    named_value{"OffsetCommit", 8},
    named_value{"OffsetFetch", 9},
    named_value{"FindCoordinator", 10},
    named_value{"JoinGroup", 11},
    named_value{"Heartbeat", 12},
    named_value{"LeaveGroup", 13},
    named_value{"SyncGroup", 14},
    named_value{"DescribeGroups", 15},
    named_value{"ListGroups", 16},
    named_value{"SaslHandshake", 17},
    named_value{"ApiVersions", 18},
    named_value{"CreateTopics", 19},
    named_value{"DeleteTopics", 20},
    named_value{"DeleteRecords", 21},
    named_value{"InitProducerId", 22},
    named_value{"OffsetForLeaderEpoch", 23},
    named_value{"AddPartitionsToTxn", 24},
    named_value{"AddOffsetsToTxn", 25},
    named_value{"EndTxn", 26},
    named_value{"TxnOffsetCommit", 28},
    named_value{"DescribeConfigs", 32},
    named_value{"AlterConfigs", 33},
    named_value{"CreatePartitions", 37},
    named_value{"DeleteGroups", 42},
};

// Names newer Kafka versions use for codes that librdkafka 2.0 spells differently.
constexpr std::array error_aliases{
    named_value{"NOT_LEADER_OR_FOLLOWER", RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION},
    named_value{"UNKNOWN_TOPIC_OR_PARTITION", RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART},
    named_value{"NONE", RD_KAFKA_RESP_ERR_NO_ERROR},
    named_value{"CORRUPT_MESSAGE", RD_KAFKA_RESP_ERR_INVALID_MSG},
    named_value{"MESSAGE_TOO_LARGE", RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE},
    named_value{"INVALID_FETCH_SIZE", RD_KAFKA_RESP_ERR_INVALID_MSG_SIZE},
};

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) {
    return false;
  }
  for (std::size_t i = 0; i < a.size(); ++i) {
    auto lower = [](char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; };
    if (lower(a[i]) != lower(b[i])) {
      return false;
    }
  }
  return true;
}

template <typename Int>
std::optional<Int> parse_int(std::string_view text) {
  Int value{};
  const auto* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (ec != std::errc() || ptr != end || text.empty()) {
    return std::nullopt;
  }
  return value;
}

std::vector<std::string_view> split_words(std::string_view line) {
  std::vector<std::string_view> words;
  std::size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) {
      ++i;
    }
    const std::size_t start = i;
    while (i < line.size() && line[i] != ' ' && line[i] != '\t') {
      ++i;
    }
    if (i > start) {
      words.push_back(line.substr(start, i - start));
    }
  }
  return words;
}

std::string ok(std::string_view detail = {}) {
  return detail.empty() ? std::string("ok") : "ok " + std::string(detail);
}

std::string error(std::string_view detail) { return "error " + std::string(detail); }

std::string result(const std::string& failure, std::string_view success_detail = {}) {
  return failure.empty() ? ok(success_detail) : error(failure);
}

constexpr std::string_view help_text =
    "commands: ping | info | broker-down ID | broker-up ID | broker-rtt ID MS | "
    "request-errors APIKEY ERR [ERR...] | clear-errors APIKEY | "
    "topic-create NAME PARTITIONS | topic-error NAME ERR | "
    "partition-leader TOPIC PARTITION BROKER | quit";

}  // namespace

std::optional<int16_t> parse_api_key(std::string_view text) {
  if (auto n = parse_int<int16_t>(text); n && *n >= 0) {
    return n;
  }
  for (const auto& key : api_keys) {
    if (iequals(key.name, text)) {
      return static_cast<int16_t>(key.value);
    }
  }
  return std::nullopt;
}

std::optional<int> parse_error_code(std::string_view text) {
  const struct rd_kafka_err_desc* descs = nullptr;
  std::size_t count = 0;
  rd_kafka_get_err_descs(&descs, &count);
  auto known = [&](int code) {
    for (std::size_t i = 0; i < count; ++i) {
      if (descs[i].name != nullptr && static_cast<int>(descs[i].code) == code) {
        return true;
      }
    }
    return false;
  };
  if (auto n = parse_int<int>(text)) {
    return known(*n) ? n : std::nullopt;
  }
  constexpr std::string_view prefix = "RD_KAFKA_RESP_ERR_";
  if (text.size() > prefix.size() && iequals(text.substr(0, prefix.size()), prefix)) {
    text.remove_prefix(prefix.size());
  }
  for (std::size_t i = 0; i < count; ++i) {
    if (descs[i].name != nullptr && iequals(descs[i].name, text)) {
      return static_cast<int>(descs[i].code);
    }
  }
  for (const auto& alias : error_aliases) {
    if (iequals(alias.name, text)) {
      return alias.value;
    }
  }
  return std::nullopt;
}

control_commands::control_commands(mock_cluster& cluster, std::function<std::string()> info_json)
    : cluster_(cluster), info_json_(std::move(info_json)) {}

std::string control_commands::execute(std::string_view line) {
  const auto words = split_words(line);
  if (words.empty()) {
    return error("empty command");
  }
  const auto cmd = words[0];
  const auto argc = words.size() - 1;
  auto usage = [&](std::string_view form) { return error("usage: " + std::string(form)); };
  auto broker_id = [&](std::string_view text) { return parse_int<int32_t>(text); };

  if (cmd == "ping") {
    return ok("pong");
  }
  if (cmd == "info") {
    return ok(info_json_());
  }
  if (cmd == "help") {
    return ok(help_text);
  }
  if (cmd == "broker-down" || cmd == "broker-up") {
    const auto id = argc == 1 ? broker_id(words[1]) : std::nullopt;
    if (!id) {
      return usage(std::string(cmd) + " BROKER_ID");
    }
    const bool down = cmd == "broker-down";
    const auto failure = down ? cluster_.set_broker_down(*id) : cluster_.set_broker_up(*id);
    if (failure.empty()) {
      log(log_level::info, "broker " + std::to_string(*id) + (down ? " down" : " up"));
    }
    return result(failure);
  }
  if (cmd == "broker-rtt") {
    const auto id = argc == 2 ? broker_id(words[1]) : std::nullopt;
    const auto ms = argc == 2 ? parse_int<int>(words[2]) : std::nullopt;
    if (!id || !ms || *ms < 0) {
      return usage("broker-rtt BROKER_ID MILLISECONDS");
    }
    const auto failure = cluster_.set_broker_rtt(*id, *ms);
    if (failure.empty()) {
      log(log_level::info, "broker " + std::to_string(*id) + " rtt " + std::to_string(*ms) + " ms");
    }
    return result(failure);
  }
  if (cmd == "request-errors") {
    if (argc < 2) {
      return usage("request-errors APIKEY ERRCODE [ERRCODE...]");
    }
    const auto key = parse_api_key(words[1]);
    if (!key) {
      return error("unknown api key: " + std::string(words[1]));
    }
    std::vector<int> codes;
    std::string names;
    for (std::size_t i = 2; i < words.size(); ++i) {
      const auto code = parse_error_code(words[i]);
      if (!code) {
        return error("unknown error code: " + std::string(words[i]));
      }
      codes.push_back(*code);
      names += (names.empty() ? "" : ",") + error_name(*code);
    }
    const auto failure = cluster_.push_request_errors(*key, codes);
    if (failure.empty()) {
      log(log_level::info, "api key " + std::to_string(*key) + ": next " + std::to_string(codes.size()) +
                               " requests fail with " + names);
    }
    return result(failure, std::to_string(codes.size()) + " " + names);
  }
  if (cmd == "clear-errors") {
    const auto key = argc == 1 ? parse_api_key(words[1]) : std::nullopt;
    if (!key) {
      return usage("clear-errors APIKEY");
    }
    cluster_.clear_request_errors(*key);
    log(log_level::info, "api key " + std::to_string(*key) + ": errors cleared");
    return ok();
  }
  if (cmd == "topic-create") {
    const auto partitions = argc == 2 ? parse_int<int>(words[2]) : std::nullopt;
    if (!partitions) {
      return usage("topic-create NAME PARTITIONS");
    }
    const std::string name(words[1]);
    const auto failure = cluster_.create_topic(name, *partitions);
    if (failure.empty()) {
      log(log_level::info, "topic " + name + " created with " + std::to_string(*partitions) + " partitions");
    }
    return result(failure);
  }
  if (cmd == "topic-error") {
    if (argc != 2) {
      return usage("topic-error NAME ERRCODE");
    }
    const auto code = parse_error_code(words[2]);
    if (!code) {
      return error("unknown error code: " + std::string(words[2]));
    }
    const std::string name(words[1]);
    const auto failure = cluster_.set_topic_error(name, *code);
    if (failure.empty()) {
      log(log_level::info, "topic " + name + " error set to " + error_name(*code));
    }
    return result(failure, error_name(*code));
  }
  if (cmd == "partition-leader") {
    const auto partition = argc == 3 ? parse_int<int32_t>(words[2]) : std::nullopt;
    const auto id = argc == 3 ? broker_id(words[3]) : std::nullopt;
    if (!partition || !id) {
      return usage("partition-leader TOPIC PARTITION BROKER_ID");
    }
    const std::string topic(words[1]);
    const auto failure = cluster_.set_partition_leader(topic, *partition, *id);
    if (failure.empty()) {
      log(log_level::info,
          "topic " + topic + " partition " + std::to_string(*partition) + " leader " + std::to_string(*id));
    }
    return result(failure);
  }
  return error("unknown command: " + std::string(cmd) + " (try help)");
}

}  // namespace kafka_dev
