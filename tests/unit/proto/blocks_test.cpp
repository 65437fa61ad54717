#include <chat/proto/blocks.hpp>

#include "test_support.hpp"

using namespace chat::proto;

namespace {
constexpr std::int64_t blocked_at = 1'795'262'400'123;  // 2026-11-21T12:00:00.123Z
}

TEST(BlockChange, SerializesAndRoundTrips) {
  const block_change added{7, 9, true};
  EXPECT_EQ(to_json(added), R"({"event":"block.added","blockerId":7,"blockedId":9})");
  const block_change removed{7, 9, false};
  EXPECT_EQ(to_json(removed), R"({"event":"block.removed","blockerId":7,"blockedId":9})");
  for (const auto& c : {added, removed}) {
    block_change back;
    ASSERT_FALSE(parse_block_change(to_json(c), back));
    EXPECT_EQ(back, c);
  }
}

TEST(BlockChange, RefusesWhatNoNodePublishes) {
  block_change out;
  for (const char* bad : {R"({"event":"block.added","blockerId":7,"blockedId":7})",
                          R"({"event":"block.maybe","blockerId":7,"blockedId":9})",
                          R"({"event":"block.added","blockerId":0,"blockedId":9})",
                          R"({"event":"block.added","blockerId":7})", R"({"blockerId":7,"blockedId":9})", "[]",
                          "nonsense", R"({"event":"block.added","blockerId":"7","blockedId":9})"}) {
    EXPECT_TRUE(parse_block_change(bad, out)) << bad;
  }
}

TEST(BlockedUser, ListSerializesAndRoundTrips) {
  const std::vector<blocked_user> list{{9, "bob \"the\" builder", blocked_at}, {3, "ann", blocked_at - 1000}};
  const auto json = to_json(std::span<const blocked_user>(list));
  EXPECT_EQ(json, R"([{"userId":9,"nickname":"bob \"the\" builder","blockedAt":"2026-11-21T12:00:00.123Z"},)"
                  R"({"userId":3,"nickname":"ann","blockedAt":"2026-11-21T11:59:59.123Z"}])");
  std::vector<blocked_user> back;
  ASSERT_FALSE(parse_blocked_user_list(json, back));
  EXPECT_EQ(back, list);
  EXPECT_TRUE(parse_blocked_user_list(R"([{"userId":9,"nickname":"x"}])", back));
  EXPECT_TRUE(parse_blocked_user_list(R"({"userId":9})", back));
  ASSERT_FALSE(parse_blocked_user_list("[]", back));
  EXPECT_TRUE(back.empty());
}
