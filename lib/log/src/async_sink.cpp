#include <chat/log/async_sink.hpp>

#include <utility>

namespace chat::log {

async_sink::async_sink(async_limits limits, output out)
    : limits_(limits), out_(std::move(out)), writer_([this] { run(); }) {}

async_sink::~async_sink() {
  stop();
  if (writer_.joinable()) writer_.join();
}

async_sink::push_result async_sink::push(std::string&& line) {
  bool wake = false;
  {
    std::lock_guard lock(mutex_);
    if (stopped_) return push_result::stopped;
    if (queue_.size() >= limits_.max_lines || queued_bytes_ + line.size() + 1 > limits_.max_bytes) {
      dropped_.fetch_add(1, std::memory_order_relaxed);
      return push_result::dropped;
    }
    queued_bytes_ += line.size() + 1;
    wake = queue_.empty();  // the writer sleeps only on an empty queue
    queue_.push_back(std::move(line));
    ++accepted_;
  }
  if (wake) wake_writer_.notify_one();
  return push_result::queued;
}

bool async_sink::flush(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  const std::uint64_t target = accepted_;
  return written_.wait_for(lock, timeout, [&] { return handed_ >= target; });
}

void async_sink::stop() {
  {
    std::lock_guard lock(mutex_);
    if (stopping_) return;
    stopping_ = true;
  }
  wake_writer_.notify_one();
  if (writer_.joinable() && writer_.get_id() != std::this_thread::get_id()) writer_.join();
}

std::uint64_t async_sink::dropped() const noexcept { return dropped_.load(std::memory_order_relaxed); }

void async_sink::run() {
  std::vector<std::string> batch;
  std::string text;
  for (;;) {
    bool last = false;
    {
      std::unique_lock lock(mutex_);
      wake_writer_.wait(lock, [&] { return !queue_.empty() || stopping_; });
      batch.swap(queue_);
      queued_bytes_ = 0;
      // Lines pushed after this point are refused, so nothing queued is left behind.
      if (stopping_) {
        stopped_ = true;
        last = true;
      }
    }
    text.clear();
    for (const auto& line : batch) {
      text += line;
      text += '\n';
    }
    const std::uint64_t dropped_now = dropped_.load(std::memory_order_relaxed);
    const std::uint64_t newly_dropped = dropped_now - dropped_reported_;
    dropped_reported_ = dropped_now;
    // The output runs without the lock: a slow stderr must not block the loggers.
    if (!text.empty() || newly_dropped != 0) out_(text, newly_dropped);
    {
      std::lock_guard lock(mutex_);
      handed_ += batch.size();
    }
    batch.clear();
    written_.notify_all();
    if (last) return;
  }
}

}  // namespace chat::log
