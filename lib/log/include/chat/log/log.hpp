#pragma once
// Structured logging for every binary of the project: one JSON object per line
// (level, ts, msg, then fields) or a human-readable text line. Thread-safe.
//
//   chat::log::info("session opened", {{"session", id}, {"user", user_id}});
//
// Never pass secrets (passwords, tokens, JWT secret) as a message or field.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <variant>

namespace chat::log {

enum class format { json, text };
enum class level { debug, info, warn, error };

struct field {
  using value_type = std::variant<std::int64_t, std::string_view, double, bool>;
  std::string_view key;
  value_type value;

  field(std::string_view k, std::string_view v) : key(k), value(v) {}
  field(std::string_view k, const std::string& v) : key(k), value(std::string_view(v)) {}
  field(std::string_view k, const char* v) : key(k), value(std::string_view(v)) {}
  field(std::string_view k, bool v) : key(k), value(v) {}
  field(std::string_view k, double v) : key(k), value(v) {}
  template <class Int>
  requires(std::is_integral_v<Int> && !std::is_same_v<Int, bool>) field(std::string_view k, Int v)
      : key(k), value(static_cast<std::int64_t>(v)) {}
};

using fields = std::initializer_list<field>;

// Configures the process-wide logger (stderr). Call once at start-up; before that,
// the defaults are json + info. Lines are written synchronously by the thread that logs
// until start_async().
void init(format fmt, level min_level);

// From now on lines are rendered by the thread that logs and written to stderr by a
// writer thread through a bounded queue (async_sink.hpp): a full queue drops lines and
// counts them (dropped_lines()), and the writer reports each run of drops with a warn
// line. For servers whose I/O threads log (chatd); tools stay synchronous. Idempotent.
void start_async(std::size_t max_lines = 8192, std::size_t max_bytes = 8 * 1024 * 1024);
// Writes every queued line (waiting at most `timeout`) and returns to synchronous writing.
// Call before the process exits, on every path (a queued line dies with the process).
// Safe without start_async(). Any thread; returns true when nothing was left behind.
bool stop_async(std::chrono::milliseconds timeout = std::chrono::milliseconds(5000));
// Lines dropped by the asynchronous queue since start_async(). Any thread.
std::uint64_t dropped_lines() noexcept;

// Parses "json"/"text" and "debug"/"info"/"warn"/"error"; false when unknown.
bool parse_format(std::string_view s, format& out);
bool parse_level(std::string_view s, level& out);

bool enabled(level lvl) noexcept;
void write(level lvl, std::string_view msg, fields f);

inline void debug(std::string_view msg, fields f = {}) {
  if (enabled(level::debug)) write(level::debug, msg, f);
}
inline void info(std::string_view msg, fields f = {}) { write(level::info, msg, f); }
inline void warn(std::string_view msg, fields f = {}) { write(level::warn, msg, f); }
inline void error(std::string_view msg, fields f = {}) { write(level::error, msg, f); }

// Renders one line without a trailing newline (exposed for tests).
std::string render(format fmt, level lvl, std::int64_t unix_ms, std::string_view msg, fields f);

}  // namespace chat::log
