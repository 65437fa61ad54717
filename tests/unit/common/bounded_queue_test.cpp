// common::bounded_queue: refuses beyond its bound and once closed, hands jobs out in order,
// and ends its consumers only when closed and drained.
#include <chat/common/bounded_queue.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <thread>
#include <vector>

using chat::common::bounded_queue;

TEST(BoundedQueue, RefusesBeyondItsBoundAndKeepsTheRefusedJob) {
  bounded_queue<std::unique_ptr<int>> q(2);
  auto a = std::make_unique<int>(1);
  auto b = std::make_unique<int>(2);
  auto c = std::make_unique<int>(3);
  EXPECT_TRUE(q.push(std::move(a)));
  EXPECT_FALSE(q.full());
  EXPECT_TRUE(q.push(std::move(b)));
  EXPECT_TRUE(q.full());
  EXPECT_FALSE(q.push(std::move(c)));
  ASSERT_NE(c, nullptr);  // refused: still the caller's
  EXPECT_EQ(*c, 3);
  EXPECT_EQ(q.size(), 2u);
  auto first = q.pop();
  ASSERT_TRUE(first && *first);
  EXPECT_EQ(**first, 1);  // FIFO
  EXPECT_FALSE(q.full());
  EXPECT_TRUE(q.push(std::move(c)));
  EXPECT_EQ(**q.pop(), 2);
  EXPECT_EQ(**q.pop(), 3);
  EXPECT_EQ(q.size(), 0u);
}

TEST(BoundedQueue, CloseRefusesNewJobsButHandsOutTheQueuedOnes) {
  bounded_queue<int> q(4);
  ASSERT_TRUE(q.push(1));
  ASSERT_TRUE(q.push(2));
  q.close();
  q.close();  // idempotent
  EXPECT_FALSE(q.push(3));
  EXPECT_TRUE(q.full());
  EXPECT_EQ(q.pop(), 1);
  EXPECT_EQ(q.pop(), 2);
  EXPECT_EQ(q.pop(), std::nullopt);  // closed and drained: does not block
}

TEST(BoundedQueue, CloseWakesBlockedConsumersAfterTheyDrainedTheQueue) {
  bounded_queue<int> q(1000);
  std::atomic<int> sum{0};
  std::vector<std::thread> workers;
  for (int i = 0; i < 3; ++i) {
    workers.emplace_back([&] {
      while (auto job = q.pop()) sum += *job;
    });
  }
  int expected = 0;
  for (int i = 1; i <= 500; ++i) {
    ASSERT_TRUE(q.push(int{i}));
    expected += i;
  }
  q.close();
  for (auto& t : workers) t.join();  // would hang if close() woke nobody
  EXPECT_EQ(sum.load(), expected);   // nothing queued before close() was dropped
}
