// user_registry with a shared_limits store (limits across nodes): registries of two nodes on
// one in-memory store that behaves like gateway_adapters/redis_limits' script (cluster-wide
// token buckets with a debt floor, session counts per node); per-node fallback while the
// store is unreachable.
#include "gateway/shared_limits.hpp"
#include "gateway/user_registry.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <string>
#include <utility>

using namespace std::chrono_literals;

namespace chat::gateway::test {
namespace {

// The cluster's state, as the Redis script keeps it.
class fake_limits_store {
 public:
  bool reachable = true;

  std::optional<std::vector<limits_state>> sync(const std::string& node, const limits_batch& batch, time_point now) {
    if (!reachable) return std::nullopt;
    std::vector<limits_state> out;
    for (const auto& u : batch.users) {
      auto& b = buckets_[u.user_id];
      if (!b.known) b = {true, batch.sends.capacity, batch.hard.capacity, now};
      const double dt = std::chrono::duration<double>(now - b.at).count();
      b.sends = std::min(batch.sends.capacity, b.sends + dt * batch.sends.rate_per_s);
      b.hard = std::min(batch.hard.capacity, b.hard + dt * batch.hard.rate_per_s);
      b.at = now;
      b.sends = std::max(-batch.sends.capacity, b.sends - u.sends);
      b.hard = std::max(-batch.hard.capacity, b.hard - u.attempts);
      if (u.sessions < 0) {
        out.push_back({b.sends, b.hard, -1});
        continue;
      }
      auto& per_node = sessions_[u.user_id];
      int elsewhere = 0;
      for (const auto& [other, n] : per_node) {
        if (other != node) elsewhere += n;
      }
      if (u.sessions > 0 && per_node[node] == 0) {
        for (const auto& [other, n] : per_node) {
          if (other != node && n > 0) wake_[other].push_back(u.user_id);
        }
      }
      per_node[node] = u.sessions;
      out.push_back({b.sends, b.hard, elsewhere});
    }
    return out;
  }

 private:
  struct bucket {
    bool known = false;
    double sends = 0;
    double hard = 0;
    time_point at{};
  };
  std::map<std::int64_t, bucket> buckets_;
  std::map<std::int64_t, std::map<std::string, int>> sessions_;

 public:
  // The users other nodes asked `node` to follow (its wake set), emptied.
  std::vector<std::int64_t> pop_wake_set(const std::string& node) { return std::exchange(wake_[node], {}); }

 private:
  std::map<std::string, std::vector<std::int64_t>> wake_;
};

// One node's adapter: syncs when the test says so (the real one every interval).
class fake_shared_limits final : public shared_limits {
 public:
  fake_shared_limits(fake_limits_store& store, std::string node) : store_(store), node_(std::move(node)) {}

  void attach(limits_participant& p) override { participant_ = &p; }
  void detach() override { participant_ = nullptr; }

  // One sync; `also`: users about to connect (redis_limits::prefetch).
  void sync(time_point now, std::vector<std::int64_t> also = {}) {
    ASSERT_NE(participant_, nullptr);
    if (store_.reachable) {
      const auto woken = store_.pop_wake_set(node_);
      also.insert(also.end(), woken.begin(), woken.end());
    }
    const auto batch = participant_->collect(now, false, also);
    participant_->apply(batch, store_.sync(node_, batch, now), now);
    ++syncs;
  }

  int syncs = 0;

 private:
  fake_limits_store& store_;
  std::string node_;
  limits_participant* participant_ = nullptr;
};

struct limits_node {
  std::shared_ptr<fake_shared_limits> shared;
  user_registry users;

  limits_node(fake_limits_store& store, const std::string& id, user_limits limits)
      : shared(std::make_shared<fake_shared_limits>(store, id)), users(with_shared(limits, shared)) {}

  static user_limits with_shared(user_limits limits, std::shared_ptr<shared_limits> shared) {
    limits.shared = std::move(shared);
    return limits;
  }
};

const time_point limits_t0 = time_point{} + std::chrono::hours(1000);
// 1 SEND/s, burst 4; the disconnect bucket out of the way unless a test wants it.
const user_limits two_node_limits{.max_sessions = 2, .rate_per_s = 1, .burst = 4, .disconnect_factor = 100};

int allowed_sends(user_registry& users, std::int64_t user, int attempts, time_point now) {
  int n = 0;
  for (int i = 0; i < attempts; ++i) n += users.take_send(user, now) == send_verdict::allowed ? 1 : 0;
  return n;
}

TEST(shared_limits, sends_split_across_two_nodes_share_one_budget) {
  fake_limits_store store;
  limits_node a(store, "a", two_node_limits), b(store, "b", two_node_limits);
  a.shared->sync(limits_t0, {1});  // user 1 connects to both nodes
  b.shared->sync(limits_t0, {1});
  ASSERT_TRUE(a.users.open_session(1, limits_t0));
  ASSERT_TRUE(b.users.open_session(1, limits_t0));

  a.shared->sync(limits_t0 + 1ms);  // a first: it sees no session of the user on b yet
  b.shared->sync(limits_t0 + 2ms);  // b sees a's: it follows the user, and wakes a to follow too
  EXPECT_EQ(allowed_sends(a.users, 1, 3, limits_t0), 3) << "under the budget on node a";
  a.shared->sync(limits_t0 + 10ms);
  b.shared->sync(limits_t0 + 20ms);
  // Node b alone would allow 4 (its own burst); the cluster has about 1 left.
  EXPECT_EQ(allowed_sends(b.users, 1, 3, limits_t0 + 20ms), 1);
  EXPECT_TRUE(a.users.shared_available());
  EXPECT_TRUE(b.users.shared_available());

  // Both nodes learn what b took: a is limited too, until the bucket refills.
  b.shared->sync(limits_t0 + 30ms);
  a.shared->sync(limits_t0 + 40ms);
  EXPECT_EQ(a.users.take_send(1, limits_t0 + 40ms), send_verdict::limited);
  EXPECT_EQ(allowed_sends(a.users, 1, 2, limits_t0 + 1100ms), 1) << "one token back after a second";
}

TEST(shared_limits, what_both_nodes_took_between_syncs_is_paid_back) {
  fake_limits_store store;
  limits_node a(store, "a", two_node_limits), b(store, "b", two_node_limits);
  ASSERT_TRUE(a.users.open_session(1, limits_t0));
  a.shared->sync(limits_t0);
  ASSERT_TRUE(b.users.open_session(1, limits_t0));
  b.shared->sync(limits_t0);
  a.shared->sync(limits_t0);  // woken by b: both nodes follow the user now
  // Both nodes accept a full burst before either syncs: the bound of the approximation.
  EXPECT_EQ(allowed_sends(a.users, 1, 4, limits_t0), 4);
  EXPECT_EQ(allowed_sends(b.users, 1, 4, limits_t0), 4);
  a.shared->sync(limits_t0);
  b.shared->sync(limits_t0);
  a.shared->sync(limits_t0);
  // The cluster bucket is at -4: eight seconds until the next SEND, on either node.
  EXPECT_EQ(allowed_sends(a.users, 1, 1, limits_t0 + 4500ms), 0);
  EXPECT_EQ(allowed_sends(b.users, 1, 1, limits_t0 + 4500ms), 0);
  EXPECT_EQ(allowed_sends(a.users, 1, 1, limits_t0 + 8s), 1);
}

TEST(shared_limits, sessions_per_user_count_every_node) {
  fake_limits_store store;
  limits_node a(store, "a", two_node_limits), b(store, "b", two_node_limits);
  a.shared->sync(limits_t0, {7});
  ASSERT_TRUE(a.users.open_session(7, limits_t0));
  ASSERT_TRUE(a.users.open_session(7, limits_t0));
  a.shared->sync(limits_t0 + 10ms);
  b.shared->sync(limits_t0 + 20ms, {7});  // the CONNECT on b fetches the user's state first
  EXPECT_FALSE(b.users.open_session(7, limits_t0 + 20ms)) << "two sessions on node a already";

  a.users.close_session(7, limits_t0 + 30ms);
  a.shared->sync(limits_t0 + 40ms);
  b.shared->sync(limits_t0 + 50ms, {7});
  EXPECT_TRUE(b.users.open_session(7, limits_t0 + 50ms));
  b.shared->sync(limits_t0 + 60ms);
  a.shared->sync(limits_t0 + 70ms, {7});
  EXPECT_FALSE(a.users.open_session(7, limits_t0 + 70ms)) << "one here, one on node b";
}

TEST(shared_limits, per_node_limits_while_the_store_is_unreachable) {
  fake_limits_store store;
  limits_node a(store, "a", two_node_limits), b(store, "b", two_node_limits);
  a.shared->sync(limits_t0, {1});
  ASSERT_TRUE(a.users.open_session(1, limits_t0));
  ASSERT_TRUE(a.users.open_session(1, limits_t0));
  EXPECT_EQ(allowed_sends(a.users, 1, 4, limits_t0), 4);
  a.shared->sync(limits_t0 + 10ms);

  store.reachable = false;
  b.shared->sync(limits_t0 + 20ms, {1});
  EXPECT_FALSE(b.users.shared_available());
  // Per node: b has its own burst and its own session budget ...
  EXPECT_TRUE(b.users.open_session(1, limits_t0 + 20ms));
  EXPECT_TRUE(b.users.open_session(1, limits_t0 + 20ms));
  EXPECT_FALSE(b.users.open_session(1, limits_t0 + 20ms)) << "the per-node limit still holds";
  EXPECT_EQ(allowed_sends(b.users, 1, 6, limits_t0 + 20ms), 4) << "the per-node rate limit still holds";
  // ... and a, which had synced before, falls back as well once its sync fails.
  a.shared->sync(limits_t0 + 30ms);
  EXPECT_FALSE(a.users.shared_available());
  EXPECT_EQ(a.users.take_send(1, limits_t0 + 30ms), send_verdict::limited);

  // Back: the cluster's view again (b's usage during the outage stayed per node).
  store.reachable = true;
  b.shared->sync(limits_t0 + 2s);
  a.shared->sync(limits_t0 + 2s);
  EXPECT_TRUE(a.users.shared_available());
  b.shared->sync(limits_t0 + 2s, {1});
  EXPECT_FALSE(b.users.open_session(1, limits_t0 + 2s)) << "2 on a and 2 on b: over the limit of 2";
}

TEST(shared_limits, a_node_with_nothing_to_sync_falls_back_too) {
  fake_limits_store store;
  limits_node a(store, "a", two_node_limits), b(store, "b", two_node_limits);
  b.shared->sync(limits_t0, {7});
  ASSERT_TRUE(b.users.open_session(7, limits_t0));
  ASSERT_TRUE(b.users.open_session(7, limits_t0));
  b.shared->sync(limits_t0 + 10ms);
  a.shared->sync(limits_t0 + 20ms, {7});
  EXPECT_FALSE(a.users.open_session(7, limits_t0 + 20ms));

  store.reachable = false;
  a.shared->sync(limits_t0 + 30ms);  // nothing due here: the sync still finds the store gone
  EXPECT_FALSE(a.users.shared_available());
  EXPECT_TRUE(a.users.open_session(7, limits_t0 + 30ms)) << "per node: b's sessions as last seen do not count";
}

TEST(shared_limits, a_single_node_limits_as_before) {
  fake_limits_store store;
  limits_node a(store, "a", user_limits{.max_sessions = 1, .rate_per_s = 2, .burst = 2, .disconnect_factor = 2});
  auto now = limits_t0;
  EXPECT_EQ(a.users.take_send(1, now), send_verdict::allowed);
  a.shared->sync(now);
  EXPECT_EQ(a.users.take_send(1, now), send_verdict::allowed);
  EXPECT_EQ(a.users.take_send(1, now), send_verdict::limited);
  a.shared->sync(now);
  now += 500ms;  // one token back
  a.shared->sync(now);
  EXPECT_EQ(a.users.take_send(1, now), send_verdict::allowed);
  // The disconnect bucket (capacity 4, 4/s) counts every attempt: 4 - 3 + 2 refilled = 3.
  EXPECT_EQ(a.users.take_send(1, now), send_verdict::limited);
  a.shared->sync(now);
  EXPECT_EQ(a.users.take_send(1, now), send_verdict::limited);
  EXPECT_EQ(a.users.take_send(1, now), send_verdict::disconnect);
  // Users without sessions, usage or unsynced counts are forgotten as before.
  a.shared->sync(now);
  a.users.sweep(now + 10s);
  EXPECT_EQ(a.users.tracked_users(), 0u);
}

}  // namespace
}  // namespace chat::gateway::test
