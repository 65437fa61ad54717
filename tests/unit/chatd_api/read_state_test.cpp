#include "api/rest_api.hpp"
#include "store/read_state.hpp"

#include <chat/auth/password.hpp>

#include <gtest/gtest.h>

using chat::store::decode_unread;
using chat::store::encode_unread;
using chat::store::unread_state;

TEST(UnreadCacheFormat, RoundTrips) {
  for (const unread_state s :
       {unread_state{0, 0}, unread_state{3, 1099511627781}, unread_state{INT32_MAX, INT64_MAX}}) {
    const auto text = encode_unread(s);
    EXPECT_EQ(decode_unread(text), s) << text;
  }
  EXPECT_EQ(encode_unread({2, 17}), R"({"unreadCount":2,"lastReadMessageId":17})");
}

TEST(UnreadCacheFormat, TreatsForeignValuesAsAMiss) {
  for (const char* bad : {"", "3", "null", "[]", "{}", R"({"unreadCount":1})", R"({"lastReadMessageId":1})",
                          R"({"unreadCount":"1","lastReadMessageId":1})",
                          R"({"unreadCount":1.5,"lastReadMessageId":1})", R"({"unreadCount":-1,"lastReadMessageId":1})",
                          R"({"unreadCount":1,"lastReadMessageId":-2})", "{\"unreadCount\":1,", "\xff\xfe"}) {
    EXPECT_EQ(decode_unread(bad), std::nullopt) << bad;
  }
  // Extra members are fine (forward compatible).
  EXPECT_EQ(decode_unread(R"({"unreadCount":1,"lastReadMessageId":2,"v":9})"), (unread_state{1, 2}));
}

TEST(PasswordCost, NamesMapToLibsodiumPresets) {
  using chat::auth::password_cost;
  using chat::chatd::api::password_cost_of;
  EXPECT_EQ(password_cost_of("minimum").opslimit, password_cost::minimum().opslimit);
  EXPECT_EQ(password_cost_of("minimum").memlimit, password_cost::minimum().memlimit);
  EXPECT_EQ(password_cost_of("interactive").memlimit, password_cost::interactive().memlimit);
  EXPECT_GT(password_cost_of("moderate").memlimit, password_cost::interactive().memlimit);
  EXPECT_GT(password_cost_of("moderate").opslimit, password_cost::interactive().opslimit);
  // A minimum-cost hash is current at that cost and outdated at the moderate one.
  const auto hash = chat::auth::hash_password("password123", password_cost_of("minimum"));
  ASSERT_TRUE(hash);
  EXPECT_FALSE(chat::auth::password_needs_rehash(*hash, password_cost_of("minimum")));
  EXPECT_TRUE(chat::auth::password_needs_rehash(*hash, password_cost_of("moderate")));
}
