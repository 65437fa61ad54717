#pragma once
// A bounded queue of finished log lines and the one thread that writes them, so a thread
// that logs (an I/O thread of chatd) never waits for stderr: a line is rendered by the
// caller, queued under a short lock, and written later by the writer thread. When the queue
// is full the line is dropped and counted, never waited for: a blocked or slow stderr (a
// full pipe, a stalled log collector) costs lines, not latency.
//
// chat::log::start_async() puts the process-wide logger on one of these; the class is
// public so that its contract (drops, flush) can be tested with its own output.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace chat::log {

struct async_limits {
  std::size_t max_lines = 8192;             // queued lines; past it new lines are dropped
  std::size_t max_bytes = 8 * 1024 * 1024;  // queued bytes, the same
};

class async_sink {
 public:
  // Receives queued lines on the writer thread, oldest first, as one or more whole lines
  // each ending in '\n', and how many lines were dropped since its previous call.
  using output = std::function<void(std::string_view lines, std::uint64_t newly_dropped)>;

  enum class push_result { queued, dropped, stopped };

  // Starts the writer thread.
  async_sink(async_limits limits, output out);
  // stop(), then joins the writer.
  ~async_sink();
  async_sink(const async_sink&) = delete;
  async_sink& operator=(const async_sink&) = delete;

  // Queues one line (without its '\n'), taking it only when `queued`. Never waits for the
  // output; any thread. `stopped` after stop(): the caller still has the line to write.
  push_result push(std::string&& line);

  // Returns once every line queued before the call has been handed to the output, or
  // when `timeout` passes (false then). Any thread but the writer's.
  bool flush(std::chrono::milliseconds timeout = std::chrono::milliseconds(5000));

  // Hands what is queued to the output and stops the writer thread; later pushes answer
  // `stopped`. Idempotent.
  void stop();

  // Lines dropped because the queue was full, since construction. Any thread.
  std::uint64_t dropped() const noexcept;

 private:
  void run();

  const async_limits limits_;
  const output out_;
  mutable std::mutex mutex_;
  std::condition_variable wake_writer_;
  std::condition_variable written_;
  std::vector<std::string> queue_;         // guarded by mutex_
  std::size_t queued_bytes_ = 0;           // guarded by mutex_
  std::uint64_t accepted_ = 0;             // lines queued since construction; guarded by mutex_
  std::uint64_t handed_ = 0;               // of those, handed to the output; guarded by mutex_
  std::atomic<std::uint64_t> dropped_{0};  // written under mutex_, read without it
  std::uint64_t dropped_reported_ = 0;     // writer thread only
  bool stopping_ = false;                  // guarded by mutex_
  bool stopped_ = false;                   // guarded by mutex_
  std::thread writer_;
};

}  // namespace chat::log
