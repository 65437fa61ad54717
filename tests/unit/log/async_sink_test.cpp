#include <chat/log/async_sink.hpp>
#include <chat/log/log.hpp>
#include <chat_test/eventually.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <string>
#include <vector>

namespace {

using chat::log::async_limits;
using chat::log::async_sink;
using chat::test::eventually;
using namespace std::chrono_literals;

// An output that records what it receives and can be held shut, the way a full stderr
// pipe holds the writer thread.
struct recording_output {
  std::mutex mutex;
  std::condition_variable opened;
  bool closed = false;
  std::atomic<int> waiting{0};
  std::string text;
  std::uint64_t dropped = 0;

  async_sink::output fn() {
    return [this](std::string_view lines, std::uint64_t newly_dropped) {
      std::unique_lock lock(mutex);
      ++waiting;
      opened.wait(lock, [&] { return !closed; });
      --waiting;
      text.append(lines);
      dropped += newly_dropped;
    };
  }
  void hold() {
    std::lock_guard lock(mutex);
    closed = true;
  }
  void release() {
    {
      std::lock_guard lock(mutex);
      closed = false;
    }
    opened.notify_all();
  }
  std::string seen() {
    std::lock_guard lock(mutex);
    return text;
  }
  std::uint64_t seen_dropped() {
    std::lock_guard lock(mutex);
    return dropped;
  }
};

std::string line(const char* s) { return s; }

TEST(AsyncSink, WritesLinesInOrderAndFlushWaitsForThem) {
  recording_output out;
  async_sink sink(async_limits{}, out.fn());
  for (int i = 0; i < 100; ++i) EXPECT_EQ(sink.push("line " + std::to_string(i)), async_sink::push_result::queued);
  ASSERT_TRUE(sink.flush(10s));
  std::string expected;
  for (int i = 0; i < 100; ++i) expected += "line " + std::to_string(i) + "\n";
  EXPECT_EQ(out.seen(), expected);
  EXPECT_EQ(sink.dropped(), 0u);
}

TEST(AsyncSink, AFullQueueDropsAndCountsInsteadOfWaiting) {
  recording_output out;
  async_sink sink(async_limits{3, 1 << 20}, out.fn());
  out.hold();
  ASSERT_EQ(sink.push(line("taken")), async_sink::push_result::queued);
  // The writer holds "taken" in the stuck output; the queue itself is empty again.
  ASSERT_TRUE(eventually([&] { return out.waiting.load() == 1; }));
  for (const char* s : {"a", "b", "c"}) EXPECT_EQ(sink.push(line(s)), async_sink::push_result::queued);
  EXPECT_EQ(sink.push(line("d")), async_sink::push_result::dropped);
  EXPECT_EQ(sink.push(line("e")), async_sink::push_result::dropped);
  EXPECT_EQ(sink.dropped(), 2u);
  EXPECT_FALSE(sink.flush(50ms));  // the output is stuck: flush gives up, it does not hang

  out.release();
  ASSERT_TRUE(sink.flush(10s));
  EXPECT_EQ(out.seen(), "taken\na\nb\nc\n");
  EXPECT_EQ(out.seen_dropped(), 2u);  // the writer reports the drops with the next batch
  EXPECT_EQ(sink.push(line("f")), async_sink::push_result::queued);
  ASSERT_TRUE(sink.flush(10s));
  EXPECT_EQ(out.seen(), "taken\na\nb\nc\nf\n");
  EXPECT_EQ(sink.dropped(), 2u);
}

TEST(AsyncSink, TheByteBoundDropsToo) {
  recording_output out;
  async_sink sink(async_limits{1000, 10}, out.fn());
  out.hold();
  ASSERT_EQ(sink.push(line("taken")), async_sink::push_result::queued);
  ASSERT_TRUE(eventually([&] { return out.waiting.load() == 1; }));
  EXPECT_EQ(sink.push(line("1234")), async_sink::push_result::queued);    // 5 bytes with its newline
  EXPECT_EQ(sink.push(line("12345")), async_sink::push_result::dropped);  // 11 > 10
  EXPECT_EQ(sink.push(line("123")), async_sink::push_result::queued);     // 9
  EXPECT_EQ(sink.dropped(), 1u);
  out.release();
  ASSERT_TRUE(sink.flush(10s));
  EXPECT_EQ(out.seen(), "taken\n1234\n123\n");
}

TEST(AsyncSink, StopWritesWhatIsQueuedAndRefusesLaterLines) {
  recording_output out;
  async_sink sink(async_limits{}, out.fn());
  out.hold();
  ASSERT_EQ(sink.push(line("first")), async_sink::push_result::queued);
  ASSERT_TRUE(eventually([&] { return out.waiting.load() == 1; }));
  ASSERT_EQ(sink.push(line("second")), async_sink::push_result::queued);
  out.release();
  sink.stop();
  EXPECT_EQ(out.seen(), "first\nsecond\n");
  std::string late = "late";
  EXPECT_EQ(sink.push(std::move(late)), async_sink::push_result::stopped);
  EXPECT_EQ(late, "late");  // not taken: the caller writes it itself
  EXPECT_TRUE(sink.flush(1s));
}

// The process-wide logger: lines logged while asynchronous reach stderr by stop_async(),
// in order, and logging is synchronous again afterwards.
TEST(AsyncLog, StopAsyncFlushesEveryQueuedLine) {
  chat::log::init(chat::log::format::text, chat::log::level::info);
  testing::internal::CaptureStderr();
  chat::log::start_async(100000, 64 * 1024 * 1024);
  for (int i = 0; i < 2000; ++i) chat::log::info("queued", {{"n", i}});
  EXPECT_TRUE(chat::log::stop_async(10s));
  chat::log::info("after stop");
  const std::string err = testing::internal::GetCapturedStderr();
  std::size_t pos = 0;
  for (int i = 0; i < 2000; ++i) {
    pos = err.find("queued n=" + std::to_string(i) + "\n", pos);
    ASSERT_NE(pos, std::string::npos) << "line " << i << " missing or out of order";
  }
  EXPECT_NE(err.find("after stop", pos), std::string::npos);
  EXPECT_EQ(chat::log::dropped_lines(), 0u);
}

}  // namespace
