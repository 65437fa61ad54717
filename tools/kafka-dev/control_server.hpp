// A line-based TCP control server on 127.0.0.1: each complete line received from a
// client is handed to the handler and its return value is sent back followed by '\n'.
// One thread serves every client with poll(); commands run one at a time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <thread>

namespace kafka_dev {

class control_server {
 public:
  using handler = std::function<std::string(std::string_view line)>;

  static constexpr std::size_t max_line_bytes = 4096;
  static constexpr std::size_t max_clients = 64;

  // Binds and listens at once (port 0 = any free port); throws std::runtime_error.
  control_server(uint16_t port, handler on_line);
  ~control_server();
  control_server(const control_server&) = delete;
  control_server& operator=(const control_server&) = delete;

  uint16_t port() const { return port_; }

  void start();
  // Wakes the thread, closes every connection and joins. Idempotent.
  void stop();

 private:
  void run();

  handler on_line_;
  int listen_fd_ = -1;
  int wake_pipe_[2] = {-1, -1};
  uint16_t port_ = 0;
  std::thread thread_;
};

}  // namespace kafka_dev
