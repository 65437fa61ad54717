// handshake_gate / gated_transport: the one --max-stomp-handshakes cap shared by the
// STOMP/TCP and WebSocket connections, with evictions run on the victim's own strand.
#include "gateway/handshake_gate.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

namespace chat::gateway {
namespace {

namespace net = boost::asio;

// A connection without a socket: records what the gate asks of it.
class probe final : public gated_transport, public std::enable_shared_from_this<probe> {
 public:
  probe(net::io_context& ioc, std::shared_ptr<handshake_gate> gate)
      : gated_transport(std::move(gate)), strand_(net::make_strand(ioc)) {}

  // What tcp_listener / the WebSocket accept handler do, split so tests can order them.
  void track() { track_handshake(shared_from_this()); }
  void started() { handshake_session_started(); }
  void close() { leave_handshake(); }

  bool awaiting_connect = true;  // what session::evict_handshake() would see
  int evictions = 0;             // evict_handshake() calls
  bool evicted_on_own_strand = true;
  static inline std::atomic<std::uint64_t> total_evictions{0};

  void output_ready() override {}
  void schedule(time_point) override {}
  void close_after_flush() override {}
  void abort() override {}
  void resume_reading() override {}

 private:
  bool evict_handshake() override {
    ++evictions;
    total_evictions.fetch_add(1);
    if (!strand_.running_in_this_thread()) evicted_on_own_strand = false;
    if (!awaiting_connect) return false;
    awaiting_connect = false;
    return true;
  }
  net::any_io_executor handshake_strand() override { return strand_; }

  net::strand<net::io_context::executor_type> strand_;
};

struct harness {
  net::io_context ioc;
  std::shared_ptr<handshake_gate> gate;

  explicit harness(std::size_t limit) : gate(std::make_shared<handshake_gate>(limit)) {}

  std::shared_ptr<probe> connect() {
    auto p = std::make_shared<probe>(ioc, gate);
    p->track();
    p->started();
    return p;
  }
  void run() {
    ioc.restart();
    ioc.run();
  }
};

TEST(handshake_gate, past_the_limit_the_oldest_is_evicted_later_on_its_own_strand) {
  harness h(2);
  auto a = h.connect();
  auto b = h.connect();
  EXPECT_EQ(h.gate->pending(), 2u);
  auto c = h.connect();  // e.g. a WebSocket connection evicting a TCP one: same gate
  EXPECT_EQ(h.gate->pending(), 2u);
  EXPECT_FALSE(a->linked());
  EXPECT_EQ(a->evictions, 0) << "posted, not run on the admitting strand";
  EXPECT_EQ(h.gate->evicted(), 0u);
  h.run();
  EXPECT_EQ(a->evictions, 1);
  EXPECT_TRUE(a->evicted_on_own_strand);
  EXPECT_EQ(b->evictions + c->evictions, 0);
  EXPECT_EQ(h.gate->evicted(), 1u);
  EXPECT_EQ(h.gate->pending(), 2u);
}

TEST(handshake_gate, a_connection_that_finished_its_handshake_is_not_counted_nor_evicted) {
  harness h(2);
  auto a = h.connect();
  auto b = h.connect();
  a->handshake_finished();  // its session accepted a CONNECT
  a->handshake_finished();  // idempotent
  EXPECT_EQ(h.gate->pending(), 1u);
  auto c = h.connect();
  auto d = h.connect();  // evicts b, the oldest still waiting
  h.run();
  EXPECT_EQ(a->evictions, 0);
  EXPECT_EQ(b->evictions, 1);
  EXPECT_EQ(h.gate->pending(), 2u);
  c->close();
  d->close();
  EXPECT_EQ(h.gate->pending(), 0u);
}

TEST(handshake_gate, an_eviction_that_reaches_the_strand_before_the_session_started_waits_for_it) {
  // A TCP connection is tracked on the listener's strand and started on its own; meanwhile
  // a WebSocket connection, tracked on another strand, may pick it.
  harness h(1);
  auto tcp = std::make_shared<probe>(h.ioc, h.gate);
  tcp->track();
  auto ws = h.connect();
  h.run();  // the eviction runs first on tcp's strand
  EXPECT_EQ(tcp->evictions, 0);
  EXPECT_EQ(h.gate->evicted(), 0u);
  tcp->started();
  EXPECT_EQ(tcp->evictions, 1);
  EXPECT_EQ(h.gate->evicted(), 1u);
  EXPECT_EQ(ws->evictions, 0);
}

TEST(handshake_gate, a_victim_that_sent_connect_in_the_meantime_is_not_counted) {
  harness h(1);
  auto a = h.connect();
  auto b = h.connect();
  a->awaiting_connect = false;  // its CONNECT was processed before the posted eviction
  h.run();
  EXPECT_EQ(a->evictions, 1);
  EXPECT_EQ(h.gate->evicted(), 0u);
}

TEST(handshake_gate, destroyed_connections_leave_and_a_dying_one_is_skipped) {
  harness h(2);
  auto a = h.connect();
  auto b = h.connect();
  a.reset();  // destroyed without a close (e.g. its io_context went away)
  EXPECT_EQ(h.gate->pending(), 1u);
  auto c = h.connect();
  h.run();
  EXPECT_EQ(b->evictions, 0);
  EXPECT_EQ(h.gate->pending(), 2u);
  EXPECT_EQ(h.gate->evicted(), 0u);
}

TEST(handshake_gate, without_a_gate_nothing_is_tracked) {
  net::io_context ioc;
  auto p = std::make_shared<probe>(ioc, nullptr);
  p->track();
  p->started();
  p->handshake_finished();
  p->close();
  EXPECT_FALSE(p->linked());
}

// Two threads admitting, finishing and dropping connections at once (as the TCP listener
// and WebSocket strands share the gate), the evictions running on two other threads: never
// more than the limit held, every eviction carried out and counted once, nothing left.
TEST(handshake_gate, concurrent_admissions_keep_the_limit_and_leave_nothing_behind) {
  constexpr std::size_t limit = 16;
  constexpr int per_thread = 2000;
  probe::total_evictions = 0;
  net::io_context ioc;
  auto gate = std::make_shared<handshake_gate>(limit);
  std::atomic<std::size_t> max_seen{0};
  auto work = [&](int seed) {
    std::vector<std::shared_ptr<probe>> held;
    for (int i = 0; i < per_thread; ++i) {
      auto p = std::make_shared<probe>(ioc, gate);
      p->track();
      p->started();
      const auto n = gate->pending();
      for (auto m = max_seen.load(); n > m && !max_seen.compare_exchange_weak(m, n);) {
      }
      if ((i + seed) % 3 == 0) p->handshake_finished();
      held.push_back(std::move(p));
      if (held.size() > 50) held.erase(held.begin());  // closed and destroyed
    }
  };
  std::thread t1(work, 0), t2(work, 1);
  t1.join();
  t2.join();
  // Everything is destroyed now, but the victims the posted evictions keep alive.
  EXPECT_EQ(gate->pending(), 0u);
  EXPECT_LE(max_seen.load(), limit);
  std::thread r1([&] { ioc.run(); }), r2([&] { ioc.run(); });
  r1.join();
  r2.join();
  EXPECT_EQ(gate->evicted(), probe::total_evictions.load());
  EXPECT_GT(gate->evicted(), 0u);
}

}  // namespace
}  // namespace chat::gateway
