// A session's subscription bookkeeping: ids, channel groups, presence and error lists.
#include "gateway/subscription_table.hpp"

#include <gtest/gtest.h>

#include <algorithm>

namespace chat::gateway {
namespace {

subscription room(std::int64_t id, ack_mode ack = ack_mode::auto_) {
  return {proto::destination{proto::destination_kind::room, id}, ack};
}
subscription typing(std::int64_t id) { return {proto::destination{proto::destination_kind::room_typing, id}}; }
subscription presence() { return {proto::destination{proto::destination_kind::presence, 0}}; }
subscription errors() { return {proto::destination{proto::destination_kind::user_errors, 0}}; }

constexpr channel_key room_1{channel_kind::room, 1};
constexpr channel_key typing_1{channel_kind::typing, 1};

TEST(subscription_table, channel_of_maps_only_room_destinations) {
  EXPECT_EQ(channel_of(room(5).dest), (channel_key{channel_kind::room, 5}));
  EXPECT_EQ(channel_of(typing(5).dest), (channel_key{channel_kind::typing, 5}));
  EXPECT_FALSE(channel_of(presence().dest));
  EXPECT_FALSE(channel_of(errors().dest));
  EXPECT_FALSE(channel_of(proto::destination{proto::destination_kind::app_send, 0}));
}

TEST(subscription_table, add_counts_the_members_of_each_group) {
  subscription_table t;
  EXPECT_EQ(t.add("a", room(1)), 1u);
  EXPECT_EQ(t.add("b", room(1, ack_mode::client)), 2u);
  EXPECT_EQ(t.add("c", typing(1)), 1u);
  EXPECT_EQ(t.add("p", presence()), 1u);
  EXPECT_EQ(t.add("q", presence()), 2u);
  EXPECT_EQ(t.add("e", errors()), 1u);
  EXPECT_EQ(t.size(), 6u);
  EXPECT_TRUE(t.contains("b"));
  EXPECT_FALSE(t.contains("z"));
  ASSERT_NE(t.find("b"), nullptr);
  EXPECT_EQ(t.find("b")->ack, ack_mode::client);
  EXPECT_EQ(t.find("z"), nullptr);
  ASSERT_NE(t.of_channel(room_1), nullptr);
  EXPECT_EQ(*t.of_channel(room_1), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(*t.of_channel(typing_1), (std::vector<std::string>{"c"}));
  EXPECT_EQ(t.of_channel(channel_key{channel_kind::room, 2}), nullptr);
  EXPECT_EQ(t.presence(), (std::vector<std::string>{"p", "q"}));
  EXPECT_EQ(t.errors(), (std::vector<std::string>{"e"}));
  auto channels = t.channels();
  std::sort(channels.begin(), channels.end(),
            [](const channel_key& x, const channel_key& y) { return x.kind < y.kind; });
  EXPECT_EQ(channels, (std::vector<channel_key>{room_1, typing_1}));
}

TEST(subscription_table, remove_reports_the_last_member_of_a_group) {
  subscription_table t;
  t.add("a", room(1));
  t.add("b", room(1));
  t.add("p", presence());
  t.add("e", errors());

  auto r = t.remove("a");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->sub.dest, room(1).dest);
  EXPECT_FALSE(r->group_emptied);
  EXPECT_EQ(*t.of_channel(room_1), (std::vector<std::string>{"b"}));

  r = t.remove("b");
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->group_emptied);
  EXPECT_EQ(t.of_channel(room_1), nullptr);
  EXPECT_TRUE(t.channels().empty());

  r = t.remove("p");
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->group_emptied);
  EXPECT_TRUE(t.presence().empty());
  r = t.remove("e");
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->group_emptied);
  EXPECT_TRUE(t.errors().empty());

  EXPECT_FALSE(t.remove("a"));
  EXPECT_EQ(t.size(), 0u);
}

TEST(subscription_table, ids_of_room_covers_the_room_and_its_typing_topic_only) {
  subscription_table t;
  t.add("a", room(1));
  t.add("b", typing(1));
  t.add("c", room(2));
  t.add("p", presence());
  auto ids = t.ids_of_room(1);
  std::sort(ids.begin(), ids.end());
  EXPECT_EQ(ids, (std::vector<std::string>{"a", "b"}));
  EXPECT_TRUE(t.ids_of_room(3).empty());
}

TEST(subscription_table, clear_forgets_everything) {
  subscription_table t;
  t.add("a", room(1));
  t.add("p", presence());
  t.add("e", errors());
  t.clear();
  EXPECT_EQ(t.size(), 0u);
  EXPECT_TRUE(t.channels().empty());
  EXPECT_TRUE(t.presence().empty());
  EXPECT_TRUE(t.errors().empty());
  EXPECT_EQ(t.add("a", room(1)), 1u);
}

}  // namespace
}  // namespace chat::gateway
