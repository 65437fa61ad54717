#include <chat/proto/people.hpp>

#include "test_support.hpp"

using namespace chat::proto;
using chat::proto::test::fails_with;

namespace {
constexpr std::int64_t people_at = 1'795'262'400'123;  // 2026-11-21T12:00:00.123Z
}

TEST(ProfileUpdate, TakesEachFieldAndOnlyWhatIsGiven) {
  profile_update u;
  ASSERT_FALSE(parse_profile_update(R"({"nickname":"  Ann B  "})", u));
  EXPECT_EQ(u.nickname, "Ann B");  // trimmed, as at signup
  EXPECT_FALSE(u.status_message);
  EXPECT_FALSE(u.avatar_url);

  ASSERT_FALSE(
      parse_profile_update(R"({"statusMessage":"out for lunch","avatarUrl":"HTTPS://cdn.example.com/a.png"})", u));
  EXPECT_FALSE(u.nickname);
  EXPECT_EQ(u.status_message, "out for lunch");
  EXPECT_EQ(u.avatar_url, "https://cdn.example.com/a.png");  // the scheme lower-cased

  // null and "" clear statusMessage and avatarUrl; blank counts as empty.
  ASSERT_FALSE(parse_profile_update(R"({"statusMessage":null,"avatarUrl":""})", u));
  EXPECT_EQ(u.status_message, "");
  EXPECT_EQ(u.avatar_url, "");
  ASSERT_FALSE(parse_profile_update(R"({"statusMessage":"   "})", u));
  EXPECT_EQ(u.status_message, "");

  // 140 characters (code points, not bytes) fit.
  std::string status;
  for (int i = 0; i < 140; ++i) status += "\xC3\xA9";  // é
  ASSERT_FALSE(parse_profile_update(R"({"statusMessage":")" + status + R"("})", u));
  EXPECT_EQ(u.status_message, status);
  // Unknown members are ignored next to known ones.
  ASSERT_FALSE(parse_profile_update(R"({"nickname":"bo","theme":"dark"})", u));
  EXPECT_EQ(u.nickname, "bo");
}

TEST(ProfileUpdate, RefusesBadInput) {
  profile_update u;
  EXPECT_TRUE(fails_with(parse_profile_update("", u), errc::invalid_json, ""));
  EXPECT_TRUE(fails_with(parse_profile_update("[]", u), errc::not_an_object, ""));
  EXPECT_TRUE(fails_with(parse_profile_update("{}", u), errc::missing_field, ""));
  EXPECT_TRUE(fails_with(parse_profile_update(R"({"theme":"dark"})", u), errc::missing_field, ""));
  EXPECT_TRUE(fails_with(parse_profile_update(R"({"nickname":null})", u), errc::wrong_type, "nickname"));
  EXPECT_TRUE(fails_with(parse_profile_update(R"({"nickname":42})", u), errc::wrong_type, "nickname"));
  EXPECT_TRUE(fails_with(parse_profile_update(R"({"nickname":"   "})", u), errc::bad_length, "nickname"));
  EXPECT_TRUE(fails_with(parse_profile_update(R"({"nickname":")" + std::string(41, 'x') + R"("})", u), errc::bad_length,
                         "nickname"));
  EXPECT_TRUE(fails_with(parse_profile_update(R"({"nickname":"a\u202Eb"})", u), errc::bad_characters, "nickname"));
  EXPECT_TRUE(fails_with(parse_profile_update(R"({"statusMessage":")" + std::string(141, 'x') + R"("})", u),
                         errc::bad_length, "statusMessage"));
  EXPECT_TRUE(
      fails_with(parse_profile_update(R"({"statusMessage":"a\nb"})", u), errc::bad_characters, "statusMessage"));
  EXPECT_TRUE(fails_with(parse_profile_update(R"({"statusMessage":true})", u), errc::wrong_type, "statusMessage"));
  EXPECT_TRUE(
      fails_with(parse_profile_update(R"({"avatarUrl":["https://x.test"]})", u), errc::wrong_type, "avatarUrl"));
  EXPECT_TRUE(
      fails_with(parse_profile_update(R"({"avatarUrl":"http://x.test/a.png"})", u), errc::bad_format, "avatarUrl"));
  // A valid field next to a bad one: nothing is taken.
  EXPECT_TRUE(fails_with(parse_profile_update(R"j({"nickname":"ok","avatarUrl":"javascript:alert(1)"})j", u),
                         errc::bad_format, "avatarUrl"));
}

TEST(AvatarUrl, HttpsWithAHostAndNothingUnsafe) {
  for (const char* ok :
       {"https://x.test", "https://cdn.example.com/u/7/avatar.png?size=64#top", "https://example.com:8443/a.png",
        "https://[2001:db8::1]/a.png", "https://[::1]:443/", "HTTPS://Example.COM/A%20b.png"}) {
    EXPECT_TRUE(is_valid_avatar_url(ok)) << ok;
  }
  for (const char* bad : {"",
                          "https://",
                          "http://x.test/a.png",
                          "ftp://x.test",
                          "//x.test/a.png",
                          "x.test/a.png",
                          "https:///a.png",
                          "https://user:pw@x.test/a.png",
                          "https://x.test@evil.test/",
                          "https://x .test/",
                          "https://x.test/a b.png",
                          "https://x.test/\"onerror=\"",
                          "https://x.test/<script>",
                          "https://x.test/a\\b",
                          "https://.x.test/",
                          "https://x.test:/",
                          "https://x.test:123456/",
                          "https://[::1/",
                          "https://x.test/\xC3\xA9",
                          "javascript:alert(1)",
                          "https://x%2Etest/"}) {
    EXPECT_FALSE(is_valid_avatar_url(bad)) << bad;
  }
  EXPECT_TRUE(is_valid_avatar_url("https://x.test/" + std::string(max_avatar_url_bytes - 15, 'a')));
  EXPECT_FALSE(is_valid_avatar_url("https://x.test/" + std::string(max_avatar_url_bytes - 14, 'a')));
}

TEST(ProfileUpdate, EncodesWhatIsSetWithEmptyAsNull) {
  EXPECT_EQ(to_json(profile_update{"ann", "", std::nullopt}), R"({"nickname":"ann","statusMessage":null})");
  EXPECT_EQ(to_json(profile_update{std::nullopt, std::nullopt, "https://x.test/a"}),
            R"({"avatarUrl":"https://x.test/a"})");
  profile_update back;
  ASSERT_FALSE(parse_profile_update(to_json(profile_update{"ann", "hi", ""}), back));
  EXPECT_EQ(back, (profile_update{"ann", "hi", ""}));
}

TEST(Profile, ExactBytesAndRoundTrip) {
  const profile online{7, "ann", "hi", std::nullopt, true, std::nullopt};
  EXPECT_EQ(to_json(online),
            R"({"id":7,"nickname":"ann","statusMessage":"hi","avatarUrl":null,"online":true,"lastSeenAt":null})");
  const profile offline{8, "bo \"b\"", std::nullopt, "https://x.test/b.png", false, people_at};
  EXPECT_EQ(to_json(offline),
            R"({"id":8,"nickname":"bo \"b\"","statusMessage":null,"avatarUrl":"https://x.test/b.png","online":false,)"
            R"("lastSeenAt":"2026-11-21T12:00:00.123Z"})");
  std::vector<profile> list{online, offline};
  std::string json;
  append_json(std::span<const profile>(list), json);
  std::vector<profile> back;
  ASSERT_FALSE(parse_profile_list(json, back));
  EXPECT_EQ(back, list);
  EXPECT_TRUE(fails_with(parse_profile_list(R"([{"id":1}])", back), errc::missing_field, "[0].nickname"));
  EXPECT_TRUE(fails_with(parse_profile_list("{}", back), errc::wrong_type, ""));
}

TEST(FriendRequest, ExactBytesRoundTripAndCreate) {
  const friend_request r{5, 7, "ann", 8, "bo", people_at, friend_request_status::pending};
  EXPECT_EQ(to_json(r), R"({"id":5,"fromUserId":7,"fromNickname":"ann","toUserId":8,"toNickname":"bo",)"
                        R"("createdAt":"2026-11-21T12:00:00.123Z","status":"pending"})");
  for (const auto s : {friend_request_status::pending, friend_request_status::accepted, friend_request_status::rejected,
                       friend_request_status::cancelled}) {
    auto copy = r;
    copy.status = s;
    friend_request back;
    ASSERT_FALSE(parse_friend_request(to_json(copy), back));
    EXPECT_EQ(back, copy);
  }
  friend_request back;
  EXPECT_TRUE(fails_with(parse_friend_request(R"({"id":5,"fromUserId":7,"toUserId":8,)"
                                              R"("createdAt":"2026-11-21T12:00:00.123Z","status":"maybe"})",
                                              back),
                         errc::bad_format, "status"));

  friend_request_create c;
  ASSERT_FALSE(parse_friend_request_create(R"({"userId":9})", c));
  EXPECT_EQ(c.user_id, 9);
  EXPECT_EQ(to_json(c), R"({"userId":9})");
  EXPECT_TRUE(fails_with(parse_friend_request_create("{}", c), errc::missing_field, "userId"));
  EXPECT_TRUE(fails_with(parse_friend_request_create(R"({"userId":"9"})", c), errc::wrong_type, "userId"));
  EXPECT_TRUE(fails_with(parse_friend_request_create(R"({"userId":0})", c), errc::out_of_range, "userId"));
  EXPECT_TRUE(fails_with(parse_friend_request_create(R"({"userId":1.5})", c), errc::wrong_type, "userId"));
}

TEST(FriendEvent, EveryKindRoundTripsAndRemovedHasNoRequest) {
  for (const auto k : {friend_event_kind::requested, friend_event_kind::accepted, friend_event_kind::rejected,
                       friend_event_kind::cancelled, friend_event_kind::removed}) {
    const friend_event e{k, k == friend_event_kind::removed ? 0 : 11, 7, 8, people_at};
    const auto json = to_json(e);
    EXPECT_TRUE(looks_like_friend_event(json)) << json;
    friend_event back;
    ASSERT_FALSE(parse_friend_event(json, back)) << json;
    EXPECT_EQ(back, e);
    EXPECT_EQ(parse_friend_event_kind(to_string(k)), k);
  }
  EXPECT_EQ(
      to_json(friend_event{friend_event_kind::requested, 11, 7, 8, people_at}),
      R"({"event":"friend.requested","requestId":11,"fromUserId":7,"toUserId":8,"at":"2026-11-21T12:00:00.123Z"})");
  EXPECT_EQ(to_json(friend_event{friend_event_kind::removed, 0, 7, 8, people_at}),
            R"({"event":"friend.removed","fromUserId":7,"toUserId":8,"at":"2026-11-21T12:00:00.123Z"})");
  friend_event back;
  EXPECT_TRUE(fails_with(parse_friend_event(R"({"event":"friend.poked","fromUserId":7,"toUserId":8,"at":"x"})", back),
                         errc::bad_format, "event"));
  EXPECT_TRUE(fails_with(
      parse_friend_event(R"({"event":"friend.accepted","fromUserId":7,"toUserId":8,"at":"2026-11-21T12:00:00.123Z"})",
                         back),
      errc::missing_field, "requestId"));
  EXPECT_FALSE(looks_like_friend_event(R"({"event":"message.hidden","roomId":1,"messageId":2})"));
}

TEST(ProfileUpdatedEvent, RoundTripsAndValidates) {
  const profile_updated_event e{7, "Ann \xF0\x9F\x98\x80"};
  EXPECT_EQ(to_json(e), "{\"event\":\"profile.updated\",\"userId\":7,\"nickname\":\"Ann \xF0\x9F\x98\x80\"}");
  profile_updated_event back;
  ASSERT_FALSE(parse_profile_updated_event(to_json(e), back));
  EXPECT_EQ(back, e);
  EXPECT_TRUE(fails_with(parse_profile_updated_event(R"({"event":"profile.updated","userId":7,"nickname":""})", back),
                         errc::bad_length, "nickname"));
  EXPECT_TRUE(fails_with(parse_profile_updated_event(R"({"event":"x","userId":7,"nickname":"a"})", back),
                         errc::bad_format, "event"));
}
