// The password pool (api/password_pool.hpp): a bounded queue that refuses at once when
// full, runs jobs on its own threads, and finishes what it queued when stopped.
#include "api/password_pool.hpp"

#include <chat_test/eventually.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <stdexcept>
#include <thread>

using chat::chatd::api::password_pool;
using chat::test::eventually;

namespace {

// Holds every job that calls wait() until open() is called.
struct gate {
  std::mutex mutex;
  std::condition_variable cv;
  bool opened = false;
  std::atomic<int> waiting{0};

  void wait() {
    ++waiting;
    std::unique_lock lock(mutex);
    cv.wait(lock, [this] { return opened; });
  }
  void open() {
    {
      std::lock_guard lock(mutex);
      opened = true;
    }
    cv.notify_all();
  }
};

TEST(PasswordPool, FullQueueRefusesAtOnceAndRunsNothingExtra) {
  password_pool pool(1, 2);
  pool.start();
  gate g;
  std::atomic<int> ran{0};
  ASSERT_TRUE(pool.submit([&] {
    g.wait();
    ++ran;
  }));
  ASSERT_TRUE(eventually([&] { return g.waiting.load() == 1; }));  // the worker is busy
  EXPECT_TRUE(pool.submit([&] { ++ran; }));
  EXPECT_TRUE(pool.submit([&] { ++ran; }));
  EXPECT_EQ(pool.queued(), 2u);
  EXPECT_TRUE(pool.full());
  EXPECT_FALSE(pool.submit([&] { ++ran; }));  // the bound: refused, not queued
  EXPECT_EQ(pool.queued(), 2u);
  g.open();
  ASSERT_TRUE(eventually([&] { return ran.load() == 3; }));
  EXPECT_EQ(pool.queued(), 0u);
  EXPECT_FALSE(pool.full());
  EXPECT_TRUE(pool.submit([&] { ++ran; }));  // room again
  ASSERT_TRUE(eventually([&] { return ran.load() == 4; }));
  pool.stop();
  EXPECT_EQ(ran.load(), 4);
}

TEST(PasswordPool, JobsRunOffTheCallersThreadOnEveryWorker) {
  password_pool pool(2, 8);
  pool.start();
  gate g;
  const auto caller = std::this_thread::get_id();
  std::atomic<bool> on_caller{false};
  for (int i = 0; i < 2; ++i) {
    ASSERT_TRUE(pool.submit([&] {
      if (std::this_thread::get_id() == caller) on_caller = true;
      g.wait();
    }));
  }
  // Both wait at once: two workers.
  EXPECT_TRUE(eventually([&] { return g.waiting.load() == 2; }));
  g.open();
  pool.stop();
  EXPECT_FALSE(on_caller.load());
}

TEST(PasswordPool, StopRunsTheQueuedJobsThenRefuses) {
  password_pool pool(1, 16);
  pool.start();
  gate g;
  std::atomic<int> ran{0};
  ASSERT_TRUE(pool.submit([&] { g.wait(); }));
  ASSERT_TRUE(eventually([&] { return g.waiting.load() == 1; }));
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(pool.submit([&] { ++ran; }));
  std::thread stopper([&] { pool.stop(); });
  // stop() refuses new work at once, while the queued jobs still wait for the worker.
  ASSERT_TRUE(eventually([&] { return !pool.submit([] {}); }));
  g.open();
  stopper.join();
  EXPECT_EQ(ran.load(), 5);
  EXPECT_FALSE(pool.submit([&] { ++ran; }));
  pool.stop();  // idempotent
}

TEST(PasswordPool, AThrowingJobDoesNotStopTheWorker) {
  password_pool pool(1, 4);
  pool.start();
  std::atomic<bool> ran{false};
  ASSERT_TRUE(pool.submit([] { throw std::runtime_error("bug"); }));
  ASSERT_TRUE(pool.submit([&] { ran = true; }));
  EXPECT_TRUE(eventually([&] { return ran.load(); }));
}

}  // namespace
