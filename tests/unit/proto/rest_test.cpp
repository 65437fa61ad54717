#include <chat/proto/rest.hpp>

#include "test_support.hpp"

using namespace chat::proto;
using chat::proto::test::fails_with;
using chat::proto::test::hostile_strings;
using chat::proto::test::reparse;

namespace {

std::string repeat(std::string_view unit, std::size_t count) {
  std::string out;
  for (std::size_t i = 0; i < count; ++i) out += unit;
  return out;
}

// A signup body; each argument is JSON text for its member ("" leaves the member out).
std::string signup_json(std::string_view email, std::string_view password, std::string_view nickname) {
  std::string out = "{";
  const auto add = [&](std::string_view name, std::string_view value) {
    if (value.empty()) return;
    if (out.size() > 1) out += ',';
    out += '"' + std::string(name) + "\":" + std::string(value);
  };
  add("email", email);
  add("password", password);
  add("nickname", nickname);
  return out + "}";
}

std::string str(std::string_view s) { return nlohmann::json(std::string(s)).dump(); }

validation_error signup(std::string_view email, std::string_view password, std::string_view nickname,
                        signup_request* result = nullptr) {
  signup_request out;
  auto error = parse_signup_request(signup_json(email, password, nickname), out);
  if (result != nullptr) *result = out;
  return error;
}

const std::string good_email = str("alice@example.com");
const std::string good_password = str("s3cret-pass");
const std::string good_nickname = str("Alice");

}  // namespace

TEST(Signup, AcceptsAndNormalizes) {
  signup_request out;
  ASSERT_FALSE(signup(str("  Alice.Smith@Example.COM "), str(" pass word "), str("  Alice \xF0\x9F\x98\x80 "), &out));
  EXPECT_EQ(out.email, "alice.smith@example.com");
  EXPECT_EQ(out.password, " pass word ");  // passwords are never trimmed
  EXPECT_EQ(out.nickname, "Alice \xF0\x9F\x98\x80");
}

TEST(Signup, RoundTrips) {
  const signup_request request{"bob@example.org", "correct horse", "Bob \xC3\xA9"};
  signup_request back;
  ASSERT_FALSE(parse_signup_request(to_json(request), back));
  EXPECT_EQ(back, request);
}

TEST(Signup, PasswordLengthBoundariesInCodePoints) {
  EXPECT_TRUE(fails_with(signup(good_email, str(repeat("a", 7)), good_nickname), errc::bad_length, "password"));
  EXPECT_FALSE(signup(good_email, str(repeat("a", 8)), good_nickname));
  EXPECT_FALSE(signup(good_email, str(repeat("a", 128)), good_nickname));
  EXPECT_TRUE(fails_with(signup(good_email, str(repeat("a", 129)), good_nickname), errc::bad_length, "password"));
  // Multibyte: 8 code points of 2 bytes each pass; 7 of 4 bytes (28 bytes) do not.
  EXPECT_FALSE(signup(good_email, str(repeat("\xC3\xA9", 8)), good_nickname));
  EXPECT_TRUE(
      fails_with(signup(good_email, str(repeat("\xF0\x9F\x98\x80", 7)), good_nickname), errc::bad_length, "password"));
  EXPECT_FALSE(signup(good_email, str(repeat("\xF0\x9F\x98\x80", 128)), good_nickname));
  EXPECT_TRUE(fails_with(signup(good_email, str(repeat("\xF0\x9F\x98\x80", 129)), good_nickname), errc::bad_length,
                         "password"));
}

TEST(Signup, NicknameLengthBoundariesInCodePoints) {
  EXPECT_FALSE(signup(good_email, good_password, str("A")));
  EXPECT_FALSE(signup(good_email, good_password, str(repeat("\xE4\xB8\xAD", 40))));  // 40 × 中 = 120 bytes
  EXPECT_TRUE(
      fails_with(signup(good_email, good_password, str(repeat("\xE4\xB8\xAD", 41))), errc::bad_length, "nickname"));
  EXPECT_FALSE(signup(good_email, good_password, str(repeat("\xF0\x9F\x98\x80", 40))));
  EXPECT_TRUE(
      fails_with(signup(good_email, good_password, str(repeat("\xF0\x9F\x98\x80", 41))), errc::bad_length, "nickname"));
  // Trimming happens before counting.
  EXPECT_FALSE(signup(good_email, good_password, str("   " + repeat("x", 40) + "   ")));
  EXPECT_TRUE(fails_with(signup(good_email, good_password, str("")), errc::bad_length, "nickname"));
  EXPECT_TRUE(fails_with(signup(good_email, good_password, str("   ")), errc::bad_length, "nickname"));
}

TEST(Signup, NicknameRejectsControlAndBidiCharacters) {
  for (const char* bad : {"a\tb", "a\nb",
                          "a\x01"
                          "b",
                          "a\x7F"
                          "b",
                          "a\xC2\x85"
                          "b",
                          "a\xE2\x80\xAE"
                          "b",
                          "a\xE2\x81\xA6"
                          "b",
                          "a\xE2\x80\xA8"
                          "b"}) {
    EXPECT_TRUE(fails_with(signup(good_email, good_password, str(bad)), errc::bad_characters, "nickname")) << bad;
  }
  EXPECT_TRUE(fails_with(signup(good_email, good_password, R"("a\u0000b")"), errc::bad_characters, "nickname"));
  // Zero-width joiner sequences (family emoji) are fine.
  EXPECT_FALSE(signup(good_email, good_password, str("\xF0\x9F\x91\xA8\xE2\x80\x8D\xF0\x9F\x91\xA9")));
}

TEST(Signup, EmailRules) {
  for (const char* ok : {"a@b.co", "first.last+tag@sub.example.com", "x@localhost.localdomain",
                         "\xC3\xA9l\xC3\xA8ve@\xC3\xA9"
                         "cole.fr"}) {
    EXPECT_FALSE(signup(str(ok), good_password, good_nickname)) << ok;
  }
  for (const char* bad : {"", "   ", "plainaddress", "@example.com", "a@", "a@b", "a@@b.com", "a@b@c.com",
                          "a b@example.com", "a@exa mple.com", "a@.example.com", "a@example.com.", "a@example..com",
                          "a\x01@example.com", "a@example.com\x7F", "a\xC2\x85@example.com"}) {
    EXPECT_TRUE(fails_with(signup(str(bad), good_password, good_nickname), errc::bad_format, "email")) << bad;
  }
  // 254 bytes is the limit, measured after trimming.
  const std::string domain = "@example.com";
  const std::string at_limit = repeat("a", 254 - domain.size()) + domain;
  ASSERT_EQ(at_limit.size(), 254u);
  EXPECT_FALSE(signup(str("  " + at_limit + "  "), good_password, good_nickname));
  EXPECT_TRUE(fails_with(signup(str("a" + at_limit), good_password, good_nickname), errc::bad_format, "email"));
}

TEST(Signup, WrongTypesAndMissingMembers) {
  EXPECT_TRUE(fails_with(signup("", good_password, good_nickname), errc::missing_field, "email"));
  EXPECT_TRUE(fails_with(signup("42", good_password, good_nickname), errc::wrong_type, "email"));
  EXPECT_TRUE(fails_with(signup(good_email, "", good_nickname), errc::missing_field, "password"));
  EXPECT_TRUE(fails_with(signup(good_email, "12345678", good_nickname), errc::wrong_type, "password"));
  EXPECT_TRUE(fails_with(signup(good_email, "true", good_nickname), errc::wrong_type, "password"));
  EXPECT_TRUE(fails_with(signup(good_email, good_password, ""), errc::missing_field, "nickname"));
  EXPECT_TRUE(fails_with(signup(good_email, good_password, R"(["Alice"])"), errc::wrong_type, "nickname"));
  EXPECT_TRUE(fails_with(signup(good_email, good_password, "null"), errc::wrong_type, "nickname"));
  signup_request out;
  EXPECT_TRUE(fails_with(parse_signup_request("[]", out), errc::not_an_object, ""));
  EXPECT_TRUE(fails_with(parse_signup_request("", out), errc::invalid_json, ""));
  EXPECT_TRUE(fails_with(parse_signup_request("{\"email\":", out), errc::invalid_json, ""));
}

TEST(Login, OnlyPresenceAndTypeAreChecked) {
  login_request out;
  ASSERT_FALSE(parse_login_request(R"({"email":" Alice@Example.com ","password":"x"})", out));
  EXPECT_EQ(out, (login_request{"alice@example.com", "x"}));
  ASSERT_FALSE(parse_login_request(R"({"email":"not an email","password":""})", out));
  EXPECT_TRUE(fails_with(parse_login_request(R"({"password":"x"})", out), errc::missing_field, "email"));
  EXPECT_TRUE(fails_with(parse_login_request(R"({"email":"a@b.c"})", out), errc::missing_field, "password"));
  EXPECT_TRUE(fails_with(parse_login_request(R"({"email":1,"password":"x"})", out), errc::wrong_type, "email"));
  EXPECT_TRUE(
      fails_with(parse_login_request(R"({"email":"a@b.c","password":123})", out), errc::wrong_type, "password"));
  const login_request request{"a@b.c", "p\"w"};
  ASSERT_FALSE(parse_login_request(to_json(request), out));
  EXPECT_EQ(out, request);
}

TEST(DirectRoom, Validates) {
  direct_room_request out;
  ASSERT_FALSE(parse_direct_room_request(R"({"targetUserId":9})", out));
  EXPECT_EQ(out.target_user_id, 9);
  ASSERT_FALSE(parse_direct_room_request(to_json(direct_room_request{INT64_MAX}), out));
  EXPECT_EQ(out.target_user_id, INT64_MAX);
  EXPECT_TRUE(fails_with(parse_direct_room_request(R"({"targetUserId":0})", out), errc::out_of_range, "targetUserId"));
  EXPECT_TRUE(fails_with(parse_direct_room_request(R"({"targetUserId":-3})", out), errc::out_of_range, "targetUserId"));
  EXPECT_TRUE(fails_with(parse_direct_room_request(R"({"targetUserId":9.5})", out), errc::wrong_type, "targetUserId"));
  EXPECT_TRUE(fails_with(parse_direct_room_request(R"({"targetUserId":"9"})", out), errc::wrong_type, "targetUserId"));
  EXPECT_TRUE(fails_with(parse_direct_room_request(R"({"targetUserId":true})", out), errc::wrong_type, "targetUserId"));
  EXPECT_TRUE(fails_with(parse_direct_room_request(R"({"targetUserId":18446744073709551615})", out), errc::out_of_range,
                         "targetUserId"));
  EXPECT_TRUE(
      fails_with(parse_direct_room_request(R"({"targetUserId":1e300})", out), errc::wrong_type, "targetUserId"));
  EXPECT_TRUE(fails_with(parse_direct_room_request(R"({})", out), errc::missing_field, "targetUserId"));
  EXPECT_TRUE(fails_with(parse_direct_room_request(R"([9])", out), errc::not_an_object, ""));
}

TEST(GroupRoom, ParsesDeduplicatesAndRoundTrips) {
  group_room_request out;
  ASSERT_FALSE(parse_group_room_request(R"({"name":"  Team  ","memberIds":[3,1,3,2,1]})", out));
  EXPECT_EQ(out.name, "Team");
  EXPECT_EQ(out.member_ids, (std::vector<std::int64_t>{3, 1, 2}));
  ASSERT_FALSE(parse_group_room_request(R"({"name":"Solo"})", out));
  EXPECT_TRUE(out.member_ids.empty());
  ASSERT_FALSE(parse_group_room_request(R"({"name":"Solo","memberIds":null})", out));
  ASSERT_FALSE(parse_group_room_request(R"({"name":"Solo","memberIds":[]})", out));
  const group_room_request request{"Caf\xC3\xA9 \"crew\"", {5, INT64_MAX}};
  ASSERT_FALSE(parse_group_room_request(to_json(request), out));
  EXPECT_EQ(out, request);
}

TEST(GroupRoom, NameBoundaries) {
  group_room_request out;
  const auto name = [&](const std::string& n) { return parse_group_room_request(R"({"name":)" + str(n) + "}", out); };
  EXPECT_FALSE(name(repeat("\xC3\xA9", 100)));
  EXPECT_TRUE(fails_with(name(repeat("\xC3\xA9", 101)), errc::bad_length, "name"));
  EXPECT_TRUE(fails_with(name(""), errc::bad_length, "name"));
  EXPECT_TRUE(fails_with(name(" \t "), errc::bad_length, "name"));
  EXPECT_TRUE(fails_with(name("a\nb"), errc::bad_characters, "name"));
  EXPECT_TRUE(fails_with(parse_group_room_request(R"({"name":5})", out), errc::wrong_type, "name"));
  EXPECT_TRUE(fails_with(parse_group_room_request(R"({"memberIds":[1]})", out), errc::missing_field, "name"));
}

TEST(GroupRoom, MemberIdRules) {
  group_room_request out;
  const auto members = [&](const std::string& ids) {
    return parse_group_room_request(R"({"name":"x","memberIds":)" + ids + "}", out);
  };
  EXPECT_TRUE(fails_with(members("5"), errc::wrong_type, "memberIds"));
  EXPECT_TRUE(fails_with(members(R"("1,2")"), errc::wrong_type, "memberIds"));
  EXPECT_TRUE(fails_with(members("{}"), errc::wrong_type, "memberIds"));
  EXPECT_TRUE(fails_with(members("[1,0]"), errc::out_of_range, "memberIds[1]"));
  EXPECT_TRUE(fails_with(members("[1,-2]"), errc::out_of_range, "memberIds[1]"));
  EXPECT_TRUE(fails_with(members("[1,2.5]"), errc::wrong_type, "memberIds[1]"));
  EXPECT_TRUE(fails_with(members(R"([1,"2"])"), errc::wrong_type, "memberIds[1]"));
  EXPECT_TRUE(fails_with(members("[null]"), errc::wrong_type, "memberIds[0]"));
  EXPECT_TRUE(fails_with(members("[[1]]"), errc::wrong_type, "memberIds[0]"));
  EXPECT_TRUE(fails_with(members("[9223372036854775808]"), errc::out_of_range, "memberIds[0]"));

  std::string thousand = "[";
  for (int i = 1; i <= 1000; ++i) thousand += std::to_string(i) + ",";
  thousand.back() = ']';
  ASSERT_FALSE(members(thousand));
  EXPECT_EQ(out.member_ids.size(), 1000u);
  std::string too_many = thousand;
  too_many.back() = ',';
  too_many += "1001]";
  EXPECT_TRUE(fails_with(members(too_many), errc::bad_length, "memberIds"));
  // The limit counts entries before de-duplication.
  std::string repeated = "[";
  for (int i = 0; i < 1001; ++i) repeated += "7,";
  repeated.back() = ']';
  EXPECT_TRUE(fails_with(members(repeated), errc::bad_length, "memberIds"));
}

TEST(AddMembers, Rules) {
  add_members_request out;
  ASSERT_FALSE(parse_add_members_request(R"({"userIds":[4,4,5]})", out));
  EXPECT_EQ(out.user_ids, (std::vector<std::int64_t>{4, 5}));
  EXPECT_TRUE(fails_with(parse_add_members_request(R"({"userIds":[]})", out), errc::bad_length, "userIds"));
  EXPECT_TRUE(fails_with(parse_add_members_request(R"({})", out), errc::missing_field, "userIds"));
  EXPECT_TRUE(fails_with(parse_add_members_request(R"({"userIds":null})", out), errc::wrong_type, "userIds"));
  EXPECT_TRUE(fails_with(parse_add_members_request(R"({"userIds":4})", out), errc::wrong_type, "userIds"));
  EXPECT_TRUE(fails_with(parse_add_members_request(R"({"userIds":[true]})", out), errc::wrong_type, "userIds[0]"));
  std::string too_many = "[";
  for (int i = 1; i <= 1001; ++i) too_many += std::to_string(i) + ",";
  too_many.back() = ']';
  EXPECT_TRUE(
      fails_with(parse_add_members_request(R"({"userIds":)" + too_many + "}", out), errc::bad_length, "userIds"));
  const add_members_request request{{1, 2, 3}};
  ASSERT_FALSE(parse_add_members_request(to_json(request), out));
  EXPECT_EQ(out, request);
  EXPECT_EQ(to_json(request), R"({"userIds":[1,2,3]})");
}

TEST(MarkRead, Rules) {
  mark_read_request out;
  ASSERT_FALSE(parse_mark_read_request(R"({"lastReadMessageId":0})", out));
  EXPECT_EQ(out.last_read_message_id, 0);
  ASSERT_FALSE(parse_mark_read_request(to_json(mark_read_request{1'099'511'627'777}), out));
  EXPECT_EQ(out.last_read_message_id, 1'099'511'627'777);
  EXPECT_TRUE(
      fails_with(parse_mark_read_request(R"({"lastReadMessageId":-1})", out), errc::out_of_range, "lastReadMessageId"));
  EXPECT_TRUE(
      fails_with(parse_mark_read_request(R"({"lastReadMessageId":1.0})", out), errc::wrong_type, "lastReadMessageId"));
  EXPECT_TRUE(
      fails_with(parse_mark_read_request(R"({"lastReadMessageId":"1"})", out), errc::wrong_type, "lastReadMessageId"));
}

TEST(Rest, HostileStringsSerializeToEquivalentJson) {
  for (const std::string& s : hostile_strings()) {
    const signup_request request{s, s, s};
    const nlohmann::json parsed = reparse(to_json(request));
    EXPECT_EQ(parsed.at("email").get<std::string>(), s);
    EXPECT_EQ(parsed.at("password").get<std::string>(), s);
    EXPECT_EQ(parsed.at("nickname").get<std::string>(), s);
    const group_room_request group{s, {1}};
    EXPECT_EQ(reparse(to_json(group)).at("name").get<std::string>(), s);
  }
}

TEST(Rest, NeverThrowsOnArbitraryJson) {
  // Every parser against bodies of every JSON type.
  for (const char* body : {"", "null", "true", "1", "-1.5", "\"s\"", "[]", "{}", "[{}]", "{\"a\":{}}",
                           R"({"email":{},"password":[],"nickname":null,"targetUserId":{},"name":[],
                               "memberIds":{},"userIds":"x","lastReadMessageId":[]})",
                           "\xFF", "{\"email\":\"\xC3\"}"}) {
    signup_request a;
    login_request b;
    direct_room_request c;
    group_room_request d;
    add_members_request e;
    mark_read_request f;
    EXPECT_TRUE(parse_signup_request(body, a)) << body;
    EXPECT_TRUE(parse_login_request(body, b)) << body;
    EXPECT_TRUE(parse_direct_room_request(body, c)) << body;
    EXPECT_TRUE(parse_group_room_request(body, d)) << body;
    EXPECT_TRUE(parse_add_members_request(body, e)) << body;
    EXPECT_TRUE(parse_mark_read_request(body, f)) << body;
  }
}

TEST(Rest, UpdateRoomRequest) {
  update_room_request r;
  ASSERT_FALSE(parse_update_room_request(R"({"name":"  ops  "})", r));
  EXPECT_EQ(r.name, "ops");
  EXPECT_FALSE(r.notice);
  ASSERT_FALSE(parse_update_room_request(R"({"notice":" line one\nline two\t "})", r));
  EXPECT_FALSE(r.name);
  EXPECT_EQ(r.notice, "line one\nline two");
  ASSERT_FALSE(parse_update_room_request(R"({"notice":null})", r));
  EXPECT_EQ(r.notice, "") << "null clears the notice";
  ASSERT_FALSE(parse_update_room_request(R"({"notice":"","name":null})", r));
  EXPECT_EQ(r.notice, "");
  EXPECT_FALSE(r.name) << "a null name is no change";
  ASSERT_FALSE(parse_update_room_request(R"({"notice":")" + std::string(500, 'n') + "\"}", r));
  for (const std::string& body : std::vector<std::string>{
           R"({})", R"({"name":null})", R"({"name":""})", R"({"name":"   "})", R"({"name":5})",
           R"({"name":")" + std::string(101, 'x') + "\"}", R"({"notice":")" + std::string(501, 'n') + "\"}",
           std::string(R"({"notice":"bell\u0007"})"), std::string(R"({"notice":"\u202Eevil"})"), R"({"notice":7})",
           R"([])"}) {
    EXPECT_TRUE(parse_update_room_request(body, r)) << body;
  }
  update_room_request both{"ops", "hi"};
  EXPECT_EQ(to_json(both), R"({"name":"ops","notice":"hi"})");
}

TEST(Rest, RoleRequest) {
  role_request r;
  ASSERT_FALSE(parse_role_request(R"({"role":"OWNER"})", r));
  EXPECT_EQ(r.role, room_role::owner);
  ASSERT_FALSE(parse_role_request(R"({"role":"MEMBER","x":1})", r));
  EXPECT_EQ(r.role, room_role::member);
  for (const char* body : {R"({})", R"({"role":"admin"})", R"({"role":null})", R"({"role":1})", "[]"}) {
    EXPECT_TRUE(parse_role_request(body, r)) << body;
  }
  EXPECT_EQ(to_json(role_request{room_role::admin}), R"({"role":"ADMIN"})");
}

TEST(Rest, NormalizeEmail) {
  EXPECT_EQ(normalize_email("  MiXeD@Example.COM\t"), "mixed@example.com");
  EXPECT_EQ(normalize_email("\xC3\x89@x.fr"), "\xC3\x89@x.fr");  // non-ASCII kept
  EXPECT_TRUE(is_valid_email("a@b.co"));
  EXPECT_FALSE(is_valid_email(" a@b.co"));
}
