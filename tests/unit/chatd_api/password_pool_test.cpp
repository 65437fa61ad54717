// The password pool (api/password_pool.hpp): a bounded queue that refuses at once when
// full, runs jobs on its own threads at the lowest CPU priority, finishes what it queued
// when stopped, and answers refusals later (answer_later) on a timer thread of its own.
#include "api/password_pool.hpp"

#include <chat_test/eventually.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <vector>

#include <pthread.h>
#include <sched.h>
#include <sys/resource.h>
#include <unistd.h>

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

TEST(PasswordPool, WorkersRunAtTheLowestCpuPriority) {
  // Hashing takes only the CPU that threads of normal priority leave over (SCHED_IDLE, or
  // nice 19 where SCHED_IDLE is refused); the submitting thread keeps its own priority.
  password_pool pool(1, 4);
  pool.start();
  std::atomic<int> policy{-1};
  std::atomic<int> nice{0};
  ASSERT_TRUE(pool.submit([&] {
    sched_param param{};
    int p = -1;
    pthread_getschedparam(pthread_self(), &p, &param);
    nice = getpriority(PRIO_PROCESS, static_cast<id_t>(gettid()));
    policy = p;
  }));
  ASSERT_TRUE(eventually([&] { return policy.load() != -1; }));
  EXPECT_TRUE(policy.load() == SCHED_IDLE || nice.load() == 19)
      << "policy " << policy.load() << " nice " << nice.load();
  sched_param param{};
  int own = -1;
  pthread_getschedparam(pthread_self(), &own, &param);
  EXPECT_NE(own, SCHED_IDLE);
}

TEST(PasswordPool, AnswerLaterWaitsItsDelayOffTheCallersThread) {
  password_pool pool(1, 4);
  pool.start();
  const auto caller = std::this_thread::get_id();
  const auto t0 = std::chrono::steady_clock::now();
  std::mutex m;
  std::vector<int> order;
  std::atomic<bool> on_caller{false};
  std::atomic<std::int64_t> first_after_ms{-1};
  pool.answer_later(std::chrono::milliseconds(300), [&] {
    if (std::this_thread::get_id() == caller) on_caller = true;
    first_after_ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count();
    std::lock_guard lock(m);
    order.push_back(2);
  });
  pool.answer_later(std::chrono::milliseconds(100), [&] {
    std::lock_guard lock(m);
    order.push_back(1);
  });
  EXPECT_EQ(pool.delayed(), 2u);
  ASSERT_TRUE(eventually([&] {
    std::lock_guard lock(m);
    return order.size() == 2;
  }));
  EXPECT_EQ(order, (std::vector<int>{1, 2})) << "by due time, not by arrival";
  EXPECT_GE(first_after_ms.load(), 300);
  EXPECT_FALSE(on_caller.load());
  EXPECT_EQ(pool.delayed(), 0u);
}

TEST(PasswordPool, StopAnswersTheDelayedAtOnceAndLaterOnesRunAtOnce) {
  password_pool pool(1, 4);
  pool.start();
  std::atomic<int> answered{0};
  for (int i = 0; i < 3; ++i) pool.answer_later(std::chrono::hours(1), [&] { ++answered; });
  EXPECT_EQ(answered.load(), 0);
  pool.stop();  // does not wait an hour
  EXPECT_EQ(answered.load(), 3);
  pool.answer_later(std::chrono::hours(1), [&] { ++answered; });  // stopped: at once
  EXPECT_EQ(answered.load(), 4);
}

TEST(PasswordPool, AnswerLaterIsBounded) {
  password_pool pool(1, 4);
  pool.start();
  std::atomic<int> answered{0};
  for (std::size_t i = 0; i < password_pool::max_delayed; ++i) {
    pool.answer_later(std::chrono::hours(1), [&] { ++answered; });
  }
  EXPECT_EQ(answered.load(), 0);
  EXPECT_EQ(pool.delayed(), password_pool::max_delayed);
  pool.answer_later(std::chrono::hours(1), [&] { ++answered; });  // beyond the bound: at once
  EXPECT_EQ(answered.load(), 1);
  pool.stop();
  EXPECT_EQ(answered.load(), static_cast<int>(password_pool::max_delayed) + 1);
}

}  // namespace

namespace {

// A worker keeps to its CPU share: after a job that hashed for d it rests about
// d * (1/share - 1) before the next job; a job that hashed nothing costs no rest.
TEST(PasswordPool, AWorkerRestsInProportionToItsHashingTime) {
  using clock = std::chrono::steady_clock;
  password_pool pool(1, 8, {}, 0.2);  // rest 4x the hashing time
  pool.start();
  const chat::auth::password_cost cost{1, std::size_t{16} * 1024 * 1024};
  std::mutex m;
  std::vector<clock::time_point> starts, ends;
  clock::duration hashed{};
  auto job = [&](bool hash) {
    return [&, hash] {
      const auto t0 = clock::now();
      if (hash) {
        ASSERT_TRUE(password_pool::hash_password("pw", cost).has_value());
      }
      const auto t1 = clock::now();
      std::lock_guard lock(m);
      starts.push_back(t0);
      ends.push_back(t1);
      if (hash) hashed = t1 - t0;
    };
  };
  ASSERT_TRUE(pool.submit(job(false)));
  ASSERT_TRUE(pool.submit(job(true)));
  ASSERT_TRUE(pool.submit(job(false)));
  ASSERT_TRUE(eventually([&] {
    std::lock_guard lock(m);
    return starts.size() == 3;
  }));
  pool.stop();
  const auto rest_after_hash = starts[2] - ends[1];
  EXPECT_GE(rest_after_hash, hashed * 3) << "hashed " << hashed.count() << " rested " << rest_after_hash.count();
  EXPECT_LT(starts[1] - ends[0], std::chrono::seconds(1)) << "no rest after a job that did not hash";
}

}  // namespace
