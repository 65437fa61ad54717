// chat-kafka-dev: a development Kafka broker built from librdkafka's mock cluster
// (rdkafka_mock.h), for machines without Docker (docs/deployment.md). NOT FOR PRODUCTION.
//
// It speaks the Kafka wire protocol, so chatd, kcat and confluent-kafka connect to it as to
// a real cluster: produce (acks=all, idempotent), fetch, consumer groups with committed
// offsets, metadata. But it is not Kafka:
//   - in memory only: everything is gone when the process exits;
//   - each partition keeps only about the newest 5 MB (counting ~70 bytes of framing per
//     produce batch) or 100k produce batches, whichever is less; older records are trimmed
//     and a consumer that falls further behind is reset by auto.offset.reset;
//   - no admin APIs: CreateTopics, DeleteTopics, CreatePartitions, DescribeConfigs,
//     ListGroups/DescribeGroups are not offered (clients time out or get
//     UNSUPPORTED_FEATURE); ListOffsets answers earliest/latest but not by timestamp;
//   - brokers listen on ports the kernel picks, new ones on every start;
//   - unknown topics are auto-created with 4 partitions when a client asks for them.
// Measured details and advice for clients: README.md next to this file.
//
// It creates the project's topics (docs/topics.md) explicitly at start, writes an info file once
// ready, and offers a line-based control port for fault injection in tests (see
// control_commands.hpp). Stops on SIGTERM/SIGINT, removes the info file, exits 0.
//
// Usage: chat-kafka-dev [--brokers N] [--topic NAME:PARTITIONS]... [--info-file PATH]
//                       [--control-port N] [--log-level debug|info|warn|error]

#include <CLI/CLI.hpp>

#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include "control_commands.hpp"
#include "control_server.hpp"
#include "log.hpp"
#include <chat/proto/names.hpp>
#include "mock_cluster.hpp"

namespace {

using kafka_dev::log;
using kafka_dev::log_level;

// The four topics of docs/topics.md, six partitions each.
const std::vector<std::string> default_topics = [] {
  namespace t = chat::proto::topics;
  std::vector<std::string> out;
  for (const auto name : {t::messages, t::read_receipts, t::messages_dlt, t::read_receipts_dlt})
    out.push_back(std::string(name) + ":6");
  return out;
}();

std::string json_string(std::string_view s) {
  std::string out = "\"";
  for (const char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char esc[8];
          std::snprintf(esc, sizeof esc, "\\u%04x", c);
          out += esc;
        } else {
          out += c;
        }
    }
  }
  return out + "\"";
}

std::string info_json(const kafka_dev::mock_cluster& cluster, uint16_t control_port) {
  std::string out = "{\"bootstrap\":" + json_string(cluster.bootstraps()) +
                    ",\"control\":" + json_string("127.0.0.1:" + std::to_string(control_port)) +
                    ",\"pid\":" + std::to_string(::getpid()) +
                    ",\"brokers\":" + std::to_string(cluster.broker_count()) + ",\"topics\":{";
  bool first = true;
  for (const auto& [name, partitions] : cluster.topics()) {
    out += (first ? "" : ",") + json_string(name) + ":" + std::to_string(partitions);
    first = false;
  }
  return out + "}}";
}

// Writes next to the target and renames, so a reader sees either nothing or all of it.
void write_file_atomically(const std::filesystem::path& path, const std::string& content) {
  auto tmp = path;
  tmp += ".tmp." + std::to_string(::getpid());
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << content << '\n';
    out.flush();
    if (!out) {
      throw std::runtime_error("cannot write " + tmp.string());
    }
  }
  std::filesystem::rename(tmp, path);
}

std::pair<std::string, int> parse_topic_spec(const std::string& spec) {
  const auto colon = spec.rfind(':');
  if (colon == std::string::npos || colon == 0) {
    throw CLI::ValidationError("--topic", "expected NAME:PARTITIONS, got '" + spec + "'");
  }
  int partitions = 0;
  try {
    std::size_t used = 0;
    partitions = std::stoi(spec.substr(colon + 1), &used);
    if (used != spec.size() - colon - 1 || partitions < 1) {
      throw std::invalid_argument("bad count");
    }
  } catch (const std::logic_error&) {
    throw CLI::ValidationError("--topic", "bad partition count in '" + spec + "'");
  }
  return {spec.substr(0, colon), partitions};
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Development Kafka broker (librdkafka mock cluster, in memory, not for production)", "chat-kafka-dev"};
  int brokers = 1;
  std::vector<std::string> topic_specs;
  std::string info_file;
  uint16_t control_port = 0;
  std::string level = "info";
  app.add_option("--brokers", brokers, "Number of brokers (ids 1..N)")->check(CLI::Range(1, 16))->capture_default_str();
  app.add_option("--topic", topic_specs,
                 "Topic to create as NAME:PARTITIONS (repeatable; default: the four chat topics "
                 "with 6 partitions)");
  app.add_option("--info-file", info_file, "Write {bootstrap,control,pid,brokers,topics} JSON here once ready");
  app.add_option("--control-port", control_port, "Control port on 127.0.0.1 (0 = any free)")->capture_default_str();
  app.add_option("--log-level", level, "Lowest level logged to stderr")
      ->check(CLI::IsMember({"debug", "info", "warn", "error"}))
      ->capture_default_str();
  // Usage errors exit with 2, like the project's other programs (docs/operations.md).
  auto usage_exit = [&app](const CLI::Error& e) { return app.exit(e) == 0 ? 0 : 2; };
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return usage_exit(e);
  }

  std::vector<std::pair<std::string, int>> topics;
  try {
    for (const auto& spec : topic_specs.empty() ? default_topics : topic_specs) {
      topics.push_back(parse_topic_spec(spec));
    }
  } catch (const CLI::Error& e) {
    return usage_exit(e);
  }

  const std::map<std::string, log_level> levels{
      {"debug", log_level::debug}, {"info", log_level::info}, {"warn", log_level::warn}, {"error", log_level::error}};
  kafka_dev::set_log_threshold(levels.at(level));

  // Block the stop signals before any thread exists, so every thread inherits the mask
  // and only sigwait() below receives them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  std::signal(SIGPIPE, SIG_IGN);

  const std::filesystem::path info_path = info_file;
  bool info_written = false;
  int exit_code = 0;
  try {
    kafka_dev::mock_cluster cluster(brokers);
    for (const auto& [name, partitions] : topics) {
      if (const auto failure = cluster.create_topic(name, partitions); !failure.empty()) {
        throw std::runtime_error("cannot create topic " + name + ": " + failure);
      }
      log(log_level::info, "topic " + name + " created with " + std::to_string(partitions) +
                               " partitions, replication factor " + std::to_string(cluster.replication_factor()));
    }

    uint16_t bound_control_port = 0;
    kafka_dev::control_commands commands(
        cluster, [&cluster, &bound_control_port] { return info_json(cluster, bound_control_port); });
    kafka_dev::control_server control(control_port,
                                      [&commands](std::string_view line) { return commands.execute(line); });
    bound_control_port = control.port();
    control.start();

    if (!info_path.empty()) {
      write_file_atomically(info_path, info_json(cluster, bound_control_port));
      info_written = true;
    }
    log(log_level::info, "ready: bootstrap " + cluster.bootstraps() +
                             ", control 127.0.0.1:" + std::to_string(bound_control_port) + ", " +
                             std::to_string(brokers) + " broker(s), pid " + std::to_string(::getpid()));

    int sig = 0;
    sigwait(&stop_signals, &sig);
    log(log_level::info, std::string("received ") + (sig == SIGTERM ? "SIGTERM" : "SIGINT") + ", shutting down");
    control.stop();
    // `cluster` is destroyed when the scope ends: brokers close their listeners.
  } catch (const std::exception& e) {
    log(log_level::error, e.what());
    exit_code = 1;
  }
  if (info_written) {
    std::error_code ec;
    std::filesystem::remove(info_path, ec);
  }
  log(log_level::info, "stopped");
  return exit_code;
}
