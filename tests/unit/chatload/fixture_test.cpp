#include "fixture.hpp"

#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

using namespace chatload;

namespace {
fixture sample() {
  fixture f;
  f.url = "http://127.0.0.1:8080";
  f.users = 3;
  f.rooms = 2;
  f.members = 2;
  f.password = "pw-12345678";
  f.accounts = {{"a@x", 1, "t1"}, {"b@x", 2, "t2"}, {"c@x", 3, "t3"}};
  f.room_ids = {10, 11};
  return f;
}
}  // namespace

TEST(Fixture, RoundTrip) {
  std::string why;
  auto f = parse_fixture(to_json(sample()), why);
  ASSERT_TRUE(f) << why;
  EXPECT_EQ(f->users, 3u);
  EXPECT_EQ(f->accounts[2].email, "c@x");
  EXPECT_EQ(f->accounts[1].user_id, 2);
  EXPECT_EQ(f->accounts[0].token, "t1");
  EXPECT_EQ(f->room_ids, (std::vector<std::int64_t>{10, 11}));
  EXPECT_EQ(f->password, "pw-12345678");
}

TEST(Fixture, RejectsMalformed) {
  std::string why;
  auto j = to_json(sample());
  auto bad = j;
  bad["schema"] = "chatload-fixture/0";
  EXPECT_FALSE(parse_fixture(bad, why));
  EXPECT_NE(why.find("schema"), std::string::npos);
  bad = j;
  bad["accounts"].erase(0);
  EXPECT_FALSE(parse_fixture(bad, why));
  EXPECT_NE(why.find("accounts"), std::string::npos);
  bad = j;
  bad["room_ids"][1] = -4;
  EXPECT_FALSE(parse_fixture(bad, why));
  bad = j;
  bad["accounts"][1].erase("email");
  EXPECT_FALSE(parse_fixture(bad, why));
  EXPECT_NE(why.find("account 1"), std::string::npos);
  bad = j;
  bad["users"] = 0;
  EXPECT_FALSE(parse_fixture(bad, why));
  bad = j;
  bad["members"] = 4;  // more than users
  EXPECT_FALSE(parse_fixture(bad, why));
  EXPECT_FALSE(parse_fixture(nlohmann::json::array(), why));
}

TEST(Fixture, MismatchWithTheScenario) {
  const auto f = sample();
  EXPECT_FALSE(mismatch(f, 3, 2, 2));
  auto m = mismatch(f, 4, 2, 2);
  ASSERT_TRUE(m);
  EXPECT_NE(m->find("3 users"), std::string::npos);
  EXPECT_NE(m->find("4 users"), std::string::npos);
  EXPECT_TRUE(mismatch(f, 3, 3, 2));
  EXPECT_TRUE(mismatch(f, 3, 2, 1));
}

TEST(Fixture, FileRoundTripAndErrors) {
  const auto dir = std::filesystem::temp_directory_path() / ("chatload-fixture-test-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const auto path = (dir / "f.json").string();
  std::string why;
  ASSERT_TRUE(save_fixture(path, sample(), why)) << why;
  auto f = load_fixture(path, why);
  ASSERT_TRUE(f) << why;
  EXPECT_EQ(f->room_ids.size(), 2u);
  EXPECT_FALSE(std::filesystem::exists(path + ".tmp"));
  std::ofstream(path) << "{not json";
  EXPECT_FALSE(load_fixture(path, why));
  EXPECT_NE(why.find("not valid JSON"), std::string::npos);
  EXPECT_FALSE(load_fixture((dir / "missing.json").string(), why));
  EXPECT_FALSE(save_fixture((dir / "no-such-dir" / "f.json").string(), sample(), why));
  std::filesystem::remove_all(dir);
}
