// pending_set: the oldest-first, capped set behind --max-stomp-handshakes.
#include "gateway/pending_set.hpp"

#include <gtest/gtest.h>

#include <array>
#include <vector>

namespace chat::gateway {
namespace {

struct conn : pending_hook {
  int id = 0;
};

int id_of(pending_hook* h) { return h == nullptr ? -1 : static_cast<conn*>(h)->id; }

// Pops everything, oldest first.
std::vector<int> drain(pending_set& set) {
  std::vector<int> out;
  while (auto* h = set.pop_oldest()) out.push_back(id_of(h));
  return out;
}

TEST(pending_set, admits_up_to_the_limit_then_evicts_the_oldest) {
  std::array<conn, 6> c;
  pending_set set(3);
  for (int i = 0; i < 6; ++i) c[i].id = i;
  EXPECT_EQ(set.admit(c[0]), nullptr);
  EXPECT_EQ(set.admit(c[1]), nullptr);
  EXPECT_EQ(set.admit(c[2]), nullptr);
  EXPECT_EQ(set.size(), 3u);
  EXPECT_EQ(id_of(set.admit(c[3])), 0);
  EXPECT_FALSE(c[0].linked());
  EXPECT_TRUE(c[3].linked());
  EXPECT_EQ(id_of(set.admit(c[4])), 1);
  EXPECT_EQ(id_of(set.admit(c[5])), 2);
  EXPECT_EQ(set.size(), 3u);
  EXPECT_EQ(drain(set), (std::vector<int>{3, 4, 5}));
  EXPECT_EQ(set.size(), 0u);
}

TEST(pending_set, leaving_from_anywhere_keeps_the_order_of_the_rest) {
  std::array<conn, 5> c;
  pending_set set(10);
  for (int i = 0; i < 5; ++i) {
    c[i].id = i;
    set.admit(c[i]);
  }
  EXPECT_TRUE(set.leave(c[2]));  // middle
  EXPECT_TRUE(set.leave(c[0]));  // oldest
  EXPECT_TRUE(set.leave(c[4]));  // newest
  EXPECT_EQ(set.size(), 2u);
  EXPECT_EQ(drain(set), (std::vector<int>{1, 3}));
}

TEST(pending_set, leave_is_idempotent_and_a_no_op_after_eviction) {
  conn a, b;
  pending_set set(1);
  a.id = 1;
  b.id = 2;
  set.admit(a);
  EXPECT_EQ(id_of(set.admit(b)), 1);
  EXPECT_FALSE(set.leave(a));  // evicted already: e.g. its session sent CONNECT meanwhile
  EXPECT_TRUE(set.leave(b));
  EXPECT_FALSE(set.leave(b));
  EXPECT_EQ(set.size(), 0u);
  EXPECT_EQ(set.pop_oldest(), nullptr);
}

TEST(pending_set, a_hook_can_be_admitted_again_after_leaving) {
  conn a, b, c;
  pending_set set(2);
  a.id = 1;
  b.id = 2;
  c.id = 3;
  set.admit(a);
  set.admit(b);
  set.leave(a);
  EXPECT_EQ(set.admit(a), nullptr);  // now the newest
  EXPECT_EQ(id_of(set.admit(c)), 2);
  EXPECT_EQ(drain(set), (std::vector<int>{1, 3}));
}

TEST(pending_set, limit_below_one_is_one_and_the_newest_is_never_evicted) {
  conn a, b;
  pending_set set(0);
  EXPECT_EQ(set.limit(), 1u);
  a.id = 1;
  b.id = 2;
  EXPECT_EQ(set.admit(a), nullptr);
  EXPECT_EQ(id_of(set.admit(b)), 1);
  EXPECT_TRUE(b.linked());
}

// A flood of connections that never finish, with real clients arriving in between that
// leave quickly: every eviction hits a flood connection, and the set never passes its limit.
TEST(pending_set, a_flood_evicts_itself_not_the_clients_that_leave_in_time) {
  constexpr int limit = 50, n = 1000;
  std::vector<conn> c(n);  // outlives the set, which unlinks what is left when destroyed
  pending_set set(limit);
  int evicted = 0;
  for (int i = 0; i < n; ++i) {
    c[i].id = i;
    if (auto* h = set.admit(c[i])) {
      ++evicted;
      EXPECT_NE(id_of(h) % 100, 7) << "a client was evicted";
    }
    EXPECT_LE(set.size(), static_cast<std::size_t>(limit));
    // Every 100th connection is a client: it sends CONNECT within the next 10 admissions.
    if (i >= 10 && (i - 10) % 100 == 7) {
      EXPECT_TRUE(set.leave(c[i - 10]));
    }
  }
  const int clients = n / 100;
  EXPECT_EQ(evicted, n - clients - limit);
}

TEST(pending_set, destruction_unlinks_what_is_left) {
  conn a, b;
  {
    pending_set set(4);
    set.admit(a);
    set.admit(b);
  }
  EXPECT_FALSE(a.linked());
  EXPECT_FALSE(b.linked());
}

}  // namespace
}  // namespace chat::gateway
