#include <chat/log/log.hpp>

#include <chat/log/async_sink.hpp>

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <memory>
#include <mutex>

namespace chat::log {
namespace {

std::atomic<format> g_format{format::json};
std::atomic<level> g_level{level::info};

std::shared_ptr<spdlog::logger> make_logger() {
  auto logger = std::make_shared<spdlog::logger>("chat", std::make_shared<spdlog::sinks::stderr_sink_mt>());
  logger->set_pattern("%v");
  logger->set_level(spdlog::level::trace);
  logger->flush_on(spdlog::level::trace);
  return logger;
}

spdlog::logger& logger() {
  static const std::shared_ptr<spdlog::logger> instance = make_logger();
  return *instance;
}

// Set once by start_async() and never freed: a thread may still log while the process
// exits, and after stop_async() the sink answers `stopped` (the caller writes itself).
std::atomic<async_sink*> g_async{nullptr};
std::mutex g_async_start;

std::string_view level_name(level lvl) {
  switch (lvl) {
    case level::debug: return "debug";
    case level::info: return "info";
    case level::warn: return "warn";
    case level::error: return "error";
  }
  return "info";
}

void append_json_string(std::string& out, std::string_view s) {
  out.push_back('"');
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20 || c == 0x7f) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out.push_back(ch);
        }
    }
  }
  out.push_back('"');
}

void append_value(std::string& out, const field::value_type& v, bool json) {
  if (const auto* i = std::get_if<std::int64_t>(&v)) {
    out += std::to_string(*i);
  } else if (const auto* s = std::get_if<std::string_view>(&v)) {
    if (json) {
      append_json_string(out, *s);
    } else {
      out.append(*s);
    }
  } else if (const auto* d = std::get_if<double>(&v)) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.6g", *d);
    out += buf;
  } else if (const auto* b = std::get_if<bool>(&v)) {
    out += *b ? "true" : "false";
  }
}

void append_timestamp(std::string& out, std::int64_t unix_ms) {
  const std::time_t secs = static_cast<std::time_t>(unix_ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(unix_ms % 1000));
  out += buf;
}

}  // namespace

void init(format fmt, level min_level) {
  g_format.store(fmt);
  g_level.store(min_level);
  (void)logger();
}

bool parse_format(std::string_view s, format& out) {
  if (s == "json") {
    out = format::json;
  } else if (s == "text") {
    out = format::text;
  } else {
    return false;
  }
  return true;
}

bool parse_level(std::string_view s, level& out) {
  if (s == "debug") {
    out = level::debug;
  } else if (s == "info") {
    out = level::info;
  } else if (s == "warn" || s == "warning") {
    out = level::warn;
  } else if (s == "error") {
    out = level::error;
  } else {
    return false;
  }
  return true;
}

bool enabled(level lvl) noexcept { return static_cast<int>(lvl) >= static_cast<int>(g_level.load()); }

std::string render(format fmt, level lvl, std::int64_t unix_ms, std::string_view msg, fields f) {
  std::string out;
  out.reserve(96 + msg.size() + f.size() * 24);
  if (fmt == format::json) {
    out += "{\"level\":\"";
    out += level_name(lvl);
    out += "\",\"ts\":\"";
    append_timestamp(out, unix_ms);
    out += "\",\"msg\":";
    append_json_string(out, msg);
    for (const auto& fld : f) {
      out.push_back(',');
      append_json_string(out, fld.key);
      out.push_back(':');
      append_value(out, fld.value, true);
    }
    out.push_back('}');
  } else {
    append_timestamp(out, unix_ms);
    out.push_back(' ');
    out += level_name(lvl);
    out.push_back(' ');
    out += msg;
    for (const auto& fld : f) {
      out.push_back(' ');
      out += fld.key;
      out.push_back('=');
      append_value(out, fld.value, false);
    }
  }
  return out;
}

namespace {

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// The writer thread's output: a batch of lines is one write to stderr.
void write_batch(std::string_view lines, std::uint64_t newly_dropped) {
  if (!lines.empty()) {
    lines.remove_suffix(1);  // spdlog's pattern ends every message with a newline
    logger().log(spdlog::level::info, "{}", lines);
  }
  if (newly_dropped != 0) {
    const auto* sink = g_async.load();
    const std::string line =
        render(g_format.load(), level::warn, now_ms(), "log lines dropped: the log queue was full",
               {{"dropped", newly_dropped}, {"dropped_total", sink != nullptr ? sink->dropped() : newly_dropped}});
    logger().log(spdlog::level::info, "{}", line);
  }
}

}  // namespace

void start_async(std::size_t max_lines, std::size_t max_bytes) {
  std::lock_guard lock(g_async_start);
  if (g_async.load() != nullptr) return;
  (void)logger();
  g_async.store(new async_sink(async_limits{max_lines, max_bytes}, write_batch));
}

bool stop_async(std::chrono::milliseconds timeout) {
  auto* sink = g_async.load();
  if (sink == nullptr) return true;
  const bool flushed = sink->flush(timeout);
  // When stderr is stuck the flush gave up; stop() would wait for it just the same.
  if (flushed) sink->stop();
  return flushed;
}

std::uint64_t dropped_lines() noexcept {
  const auto* sink = g_async.load();
  return sink != nullptr ? sink->dropped() : 0;
}

void write(level lvl, std::string_view msg, fields f) {
  if (!enabled(lvl)) return;
  std::string line = render(g_format.load(), lvl, now_ms(), msg, f);
  if (auto* sink = g_async.load(); sink != nullptr) {
    switch (sink->push(std::move(line))) {
      case async_sink::push_result::queued:
      case async_sink::push_result::dropped: return;
      case async_sink::push_result::stopped: break;
    }
  }
  logger().log(spdlog::level::info, "{}", line);
}

}  // namespace chat::log
