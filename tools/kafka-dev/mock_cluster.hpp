// RAII owner of a librdkafka mock cluster (rdkafka_mock.h) and the dummy producer handle
// that hosts it. The mock cluster runs its brokers on its own thread; every method here
// only posts an operation to that thread and waits for the answer, so they may be called
// from any thread.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace kafka_dev {

class mock_cluster {
 public:
  // Starts broker_count brokers (ids 1..broker_count) listening on 127.0.0.1, on ports
  // chosen by the kernel. Throws std::runtime_error on failure.
  explicit mock_cluster(int broker_count);
  ~mock_cluster();
  mock_cluster(const mock_cluster&) = delete;
  mock_cluster& operator=(const mock_cluster&) = delete;

  int broker_count() const { return broker_count_; }
  // "127.0.0.1:P1,127.0.0.1:P2,..." as a client's bootstrap.servers.
  std::string bootstraps() const;

  // Each returns an empty string on success, otherwise a one-line error description.
  std::string create_topic(const std::string& name, int partitions);
  std::string set_topic_error(const std::string& name, int error_code);
  std::string set_broker_down(int32_t broker_id);
  std::string set_broker_up(int32_t broker_id);
  std::string set_broker_rtt(int32_t broker_id, int rtt_ms);
  std::string set_partition_leader(const std::string& topic, int32_t partition, int32_t broker_id);
  std::string push_request_errors(int16_t api_key, const std::vector<int>& error_codes);
  void clear_request_errors(int16_t api_key);

  // Topics created through create_topic(), name -> partition count.
  std::map<std::string, int> topics() const;
  int replication_factor() const;

 private:
  struct handles;
  std::unique_ptr<handles> handles_;
  int broker_count_;
  mutable std::mutex mutex_;
  std::map<std::string, int> topics_;
};

// Kafka error name of a code as librdkafka spells it ("NOT_LEADER_FOR_PARTITION").
std::string error_name(int error_code);

}  // namespace kafka_dev
