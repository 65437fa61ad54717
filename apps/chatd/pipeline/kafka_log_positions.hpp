#pragma once
// Adapter: core/log_positions.hpp on a group-less kafka::reader, served by one thread of its own
// (never an I/O thread or a database worker). Questions that wait together are answered with
// one watermark query per partition: each query starts after every question it answers was
// asked. At most 10,000 questions wait; more are answered "not ok" at once.
#include "config/config.hpp"
#include "core/log_positions.hpp"

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <thread>
#include <utility>

namespace chat::chatd {

class kafka_log_positions final : public log_positions {
 public:
  // Nothing connects before the first question. Throws std::runtime_error on invalid settings.
  explicit kafka_log_positions(const config& cfg);
  ~kafka_log_positions() override;
  kafka_log_positions(const kafka_log_positions&) = delete;
  kafka_log_positions& operator=(const kafka_log_positions&) = delete;

  void room_log_end(std::int64_t room_id, std::function<void(const log_end&)> done) override;
  // Answers what waits with "not ok" and joins the thread. Idempotent.
  void stop();

  static constexpr std::size_t max_waiting = 10'000;

 private:
  void run();

  const config cfg_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::pair<std::int64_t, std::function<void(const log_end&)>>> waiting_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace chat::chatd
