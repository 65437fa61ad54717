#pragma once
// Kafka administration used at start-up and by health checks. Thin RAII over
// librdkafka; no librdkafka type appears in this header.
#include <chat/kafka/settings.hpp>

#include <chrono>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace chat::kafka {

struct topic_spec {
  std::string name;
  int partitions = 6;
  int replication_factor = 1;  // -1: the broker's default (Kafka >= 2.4)
  // Topic configuration for CreateTopics, e.g. {"cleanup.policy", "compact"}.
  std::vector<std::pair<std::string, std::string>> configs;
};

struct topic_outcome {
  std::string name;
  bool ok = false;       // exists now with the wanted partition count
  bool created = false;  // created by this call (false: it already existed)
  int partitions = -1;   // partition count seen in the metadata, -1 unknown
  std::string error;     // why not ok
};

// Owns one librdkafka handle. Every method blocks up to its timeout: call them from
// start-up code or a background thread, never from an I/O thread.
class admin {
 public:
  // Throws std::runtime_error with librdkafka's message when a setting is invalid.
  explicit admin(const settings& s);
  ~admin();
  admin(const admin&) = delete;
  admin& operator=(const admin&) = delete;

  // Creates the topics that do not exist (CreateTopics), then checks every topic's
  // partition count in the metadata. A topic that exists with another partition count
  // is reported as not ok: message ids depend on it (see docs/architecture.md).
  std::vector<topic_outcome> ensure_topics(const std::vector<topic_spec>& topics, std::chrono::milliseconds timeout);

  // One metadata round trip to the cluster. Empty string when the cluster answered,
  // otherwise the reason.
  std::string ping(std::chrono::milliseconds timeout);

  // Partition count of `topic` from a fresh metadata request; -1 when unknown.
  int partition_count(const std::string& topic, std::chrono::milliseconds timeout);

  // Metadata request naming only `topic`: a cluster that creates topics on first use
  // (auto.create.topics.enable, and the development broker) creates it now. Returns its
  // partition count, or -1 when it does not exist or the request failed.
  int request_topic(const std::string& topic, std::chrono::milliseconds timeout);

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace chat::kafka
