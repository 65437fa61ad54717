// A session's bounded write queue: the byte bound (slow-consumer policy), buffers handed to
// the transport, and the write-stall clock.
#include "gateway/outbound_queue.hpp"

#include <gtest/gtest.h>

using namespace std::chrono_literals;

namespace chat::gateway {
namespace {

const time_point t0 = time_point{} + 1000h;

outbound_item item(std::string head, std::shared_ptr<const std::string> shared = nullptr, std::int64_t sent_at = 0) {
  return outbound_item{std::move(head), std::move(shared), sent_at};
}

std::string flatten(const std::vector<boost::asio::const_buffer>& buffers) {
  std::string out;
  for (const auto& b : buffers) out.append(static_cast<const char*>(b.data()), b.size());
  return out;
}

TEST(outbound_queue, refuses_what_would_pass_the_bound) {
  outbound_queue q(10);
  EXPECT_TRUE(q.push(item("12345")));
  EXPECT_TRUE(q.push(item("1234", std::make_shared<const std::string>("x"))));
  EXPECT_EQ(q.bytes(), 10u);
  EXPECT_FALSE(q.push(item("1")));  // 11 > 10: slow consumer
  EXPECT_EQ(q.bytes(), 10u);
  EXPECT_EQ(q.frames(), 2u);
}

TEST(outbound_queue, a_single_frame_larger_than_the_bound_is_refused) {
  outbound_queue q(4);
  EXPECT_FALSE(q.push(item("12345")));
  EXPECT_TRUE(q.empty());
}

TEST(outbound_queue, collect_hands_out_heads_and_shared_tails_in_order) {
  outbound_queue q(1000);
  const auto tail = std::make_shared<const std::string>("-tail");
  ASSERT_TRUE(q.push(item("a", tail)));
  ASSERT_TRUE(q.push(item("b")));
  ASSERT_TRUE(q.push(item("c", tail)));
  std::vector<boost::asio::const_buffer> out;
  EXPECT_EQ(q.collect(out, 2), 2u);
  EXPECT_EQ(out.size(), 3u);
  EXPECT_EQ(flatten(out), "a-tailb");
  // The shared tail is referenced, not copied.
  EXPECT_EQ(out[1].data(), tail->data());
  out.clear();
  EXPECT_EQ(q.collect(out, 10), 3u);
  EXPECT_EQ(flatten(out), "a-tailbc-tail");
}

TEST(outbound_queue, pop_written_frees_the_bytes_and_shows_each_item) {
  outbound_queue q(20);
  ASSERT_TRUE(q.push(item("0123456789", nullptr, 5)));
  ASSERT_TRUE(q.push(item("0123456789", nullptr, 0)));
  EXPECT_FALSE(q.push(item("x")));
  std::vector<std::int64_t> seen;
  q.pop_written(1, [&](const outbound_item& i) { seen.push_back(i.sent_at_ms); });
  EXPECT_EQ(seen, (std::vector<std::int64_t>{5}));
  EXPECT_EQ(q.bytes(), 10u);
  EXPECT_TRUE(q.push(item("x")));
  q.pop_written(5, [&](const outbound_item& i) { seen.push_back(i.sent_at_ms); });
  EXPECT_EQ(seen.size(), 3u);
  EXPECT_TRUE(q.empty());
  EXPECT_EQ(q.bytes(), 0u);
}

TEST(outbound_queue, the_write_clock_runs_from_the_first_collect_to_the_write) {
  outbound_queue q(100);
  EXPECT_FALSE(q.writing_since());
  EXPECT_TRUE(q.start_write_clock(t0));
  EXPECT_FALSE(q.start_write_clock(t0 + 5s));  // still the same write
  EXPECT_EQ(q.writing_since(), t0);
  q.pop_written(0, [](const outbound_item&) {});
  EXPECT_FALSE(q.writing_since());
  EXPECT_TRUE(q.start_write_clock(t0 + 6s));
  EXPECT_EQ(q.writing_since(), t0 + 6s);
}

}  // namespace
}  // namespace chat::gateway
