#pragma once
// Test fixture support: runs chat-kafka-dev (the mock-cluster broker) as a child process.
#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace chat::kafka::test {

// Starts the broker with the given topics ("name:partitions") and waits, up to
// `ready_timeout`, for its info file. Throws std::runtime_error (with the broker's log)
// when it does not come up. The destructor stops it (SIGTERM, then SIGKILL) and removes
// its temporary directory.
class dev_broker {
 public:
  explicit dev_broker(const std::vector<std::string>& topics,
                      std::chrono::milliseconds ready_timeout = std::chrono::seconds(10));
  ~dev_broker();
  dev_broker(const dev_broker&) = delete;
  dev_broker& operator=(const dev_broker&) = delete;

  const std::string& bootstrap() const { return bootstrap_; }
  pid_t pid() const { return pid_; }

  // Sends one control line, returns the reply line (without newline). Throws on I/O error.
  std::string control(std::string_view line) const;

 private:
  void stop() noexcept;
  std::string read_log() const;

  std::filesystem::path dir_;
  pid_t pid_ = -1;
  std::string bootstrap_;
  std::uint16_t control_port_ = 0;
};

}  // namespace chat::kafka::test
