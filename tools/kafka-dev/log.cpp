#include "log.hpp"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <string>

namespace kafka_dev {
namespace {

std::atomic<log_level> threshold{log_level::info};

std::string_view level_name(log_level level) {
  switch (level) {
    case log_level::debug: return "debug";
    case log_level::info: return "info";
    case log_level::warn: return "warn";
    case log_level::error: return "error";
  }
  return "?";
}

}  // namespace

void set_log_threshold(log_level level) { threshold.store(level); }

log_level log_threshold() { return threshold.load(); }

void log(log_level level, std::string_view msg) {
  if (static_cast<int>(level) < static_cast<int>(threshold.load())) {
    return;
  }
  const auto now = std::chrono::system_clock::now();
  const auto secs = std::chrono::system_clock::to_time_t(now);
  const auto millis = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char stamp[40];
  const auto n = std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &tm);
  std::string line(stamp, n);
  char ms[8];
  std::snprintf(ms, sizeof ms, ".%03dZ", static_cast<int>(millis));
  line += ms;
  line += ' ';
  line += level_name(level);
  line += " chat-kafka-dev: ";
  // Keep one event on one line even if a message carries newlines.
  for (const char c : msg) {
    line += (c == '\n' || c == '\r') ? ' ' : c;
  }
  line += '\n';
  // A single write keeps lines from different threads from interleaving.
  std::size_t off = 0;
  while (off < line.size()) {
    const auto w = ::write(STDERR_FILENO, line.data() + off, line.size() - off);
    if (w <= 0) {
      break;
    }
    off += static_cast<std::size_t>(w);
  }
}

}  // namespace kafka_dev
