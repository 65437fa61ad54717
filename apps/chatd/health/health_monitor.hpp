#pragma once
// Checks PostgreSQL, Kafka and Redis on its own thread every interval and keeps the
// latest result, so /readyz answers from memory and never blocks an I/O thread.
#include "config/config.hpp"

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace chat::kafka {
class admin;
}
namespace chat::redis {
class client;
}
namespace chat::store {
class connection;
}

namespace chat::chatd {

struct component_status {
  bool up = false;
  std::string error;  // why it is down; empty when up
  std::int64_t checked_at_ms = 0;
};

struct health_snapshot {
  bool ready = false;  // every component up
  std::map<std::string, component_status> components;
};

class health_monitor {
 public:
  explicit health_monitor(const config& cfg);
  ~health_monitor();
  health_monitor(const health_monitor&) = delete;
  health_monitor& operator=(const health_monitor&) = delete;

  // Adds a component checked with the others from the next round on (any thread). The
  // check runs on the monitor's thread and must be cheap and non-blocking.
  void add_check(std::string name, std::function<component_status()> check);

  void start();
  void stop();
  // Runs one round of checks on the calling thread (start-up only).
  void check_now();
  health_snapshot snapshot() const;

  // {"status":"UP"|"DOWN","components":{"postgres":{"status":…,"error":…},…}}
  static std::string to_json(const health_snapshot& s);

 private:
  void run();
  component_status check_postgres();
  component_status check_redis();
  component_status check_kafka();

  const config& cfg_;
  std::unique_ptr<kafka::admin> kafka_;
  std::unique_ptr<redis::client> redis_;
  std::unique_ptr<store::connection> pg_;

  std::mutex checks_mutex_;
  std::vector<std::pair<std::string, std::function<component_status()>>> extra_checks_;  // by checks_mutex_

  mutable std::mutex mutex_;
  std::condition_variable cv_;
  bool stopping_ = false;
  health_snapshot snapshot_;
  std::thread thread_;
};

}  // namespace chat::chatd
