// The docs/rest.md answer bodies: exact bytes of the encoders (chatd's wire format), encode→parse round
// trips, and parsers refusing wrong types, missing members and invalid UTF-8.
#include <chat/proto/rest.hpp>

#include "test_support.hpp"

using namespace chat::proto;
using chat::proto::test::fails_with;
using chat::proto::test::hostile_strings;
using chat::proto::test::reparse;

namespace {

constexpr std::int64_t t0 = 1763726400123;  // 2025-11-21T12:00:00.123Z
const char* const t0_text = "2025-11-21T12:00:00.123Z";

chat_message sample_message(std::int64_t id) {
  chat_message m;
  m.id = id;
  m.message_key = "3b241101-e2bb-4255-8caf-4136c566a962";
  m.room_id = 3;
  m.sender_id = 7;
  m.sender_nickname = "ann";
  m.content = "hi \"there\"\n\xF0\x9F\x98\x80";
  m.type = message_type::text;
  m.created_at_ms = t0;
  return m;
}

room sample_room() { return room{4, room_type::group, "ops \xC3\xA9", 7, t0, {{7, "ann"}, {8, "bo\"b"}}}; }

// to_json() for every answer type, also those that ADL cannot find (std::vector<std::int64_t>).
template <class T>
std::string encode(const T& value) {
  std::string out;
  append_json(value, out);
  return out;
}

// Encodes `value`, checks the text is JSON, parses it back with `parse` and compares.
template <class T, class Parse>
void expect_round_trip(const T& value, Parse parse) {
  const std::string text = encode(value);
  EXPECT_NO_THROW(reparse(text)) << text;
  T back{};
  const auto error = parse(text, back);
  ASSERT_FALSE(error) << error.field << ": " << error.message << " in " << text;
  EXPECT_EQ(back, value) << text;
}

}  // namespace

TEST(RestAnswers, ExactBytes) {
  EXPECT_EQ(to_json(session{"t0k", 7, "ann@example.com", "ann"}),
            R"({"token":"t0k","userId":7,"email":"ann@example.com","nickname":"ann"})");
  EXPECT_EQ(to_json(user{7, "ann@example.com", "ann", t0}),
            std::string(R"({"id":7,"email":"ann@example.com","nickname":"ann","createdAt":")") + t0_text +
                R"(","statusMessage":null,"avatarUrl":null})");
  EXPECT_EQ(to_json(user{7, "ann@example.com", "ann", t0, "away", "https://x.test/a.png"}),
            std::string(R"({"id":7,"email":"ann@example.com","nickname":"ann","createdAt":")") + t0_text +
                R"(","statusMessage":"away","avatarUrl":"https://x.test/a.png"})");
  EXPECT_EQ(to_json(user_ref{5, "bo"}), R"({"id":5,"nickname":"bo"})");
  EXPECT_EQ(
      to_json(room{4, room_type::direct, std::nullopt, 7, t0, {{7, "ann"}, {8, "bo"}}}),
      std::string(R"({"id":4,"type":"DIRECT","name":null,"createdBy":7,"createdAt":")") + t0_text +
          R"(","notice":null,"pinned":[],"members":[{"userId":7,"nickname":"ann"},{"userId":8,"nickname":"bo"}]})");
  // SPEC §16: roles, the notice and the pinned message ids.
  EXPECT_EQ(to_json(room{4,
                         room_type::group,
                         "ops",
                         7,
                         t0,
                         {{7, "ann", room_role::owner}, {8, "bo", room_role::member}},
                         "read the rules",
                         {9, 3}}),
            std::string(R"({"id":4,"type":"GROUP","name":"ops","createdBy":7,"createdAt":")") + t0_text +
                R"(","notice":"read the rules","pinned":[9,3],"members":[{"userId":7,"nickname":"ann","role":"OWNER"},)"
                R"({"userId":8,"nickname":"bo","role":"MEMBER"}]})");
  EXPECT_EQ(to_json(invite_result{room{5, room_type::group, "ops", 7, t0, {}}, {8, 9}}),
            std::string(R"({"id":5,"type":"GROUP","name":"ops","createdBy":7,"createdAt":")") + t0_text +
                R"(","notice":null,"pinned":[],"members":[],"added":[8,9]})");
  const std::vector<room_summary> rooms = {
      {4, room_type::direct, std::nullopt, 2, 1, sample_message(1)},
      {5, room_type::group, "ops", 3, 0, std::nullopt},
  };
  EXPECT_EQ(to_json(rooms),
            R"([{"id":4,"type":"DIRECT","name":null,"memberCount":2,"unreadCount":1,"lastMessage":)" +
                to_json(sample_message(1)) +
                R"(},{"id":5,"type":"GROUP","name":"ops","memberCount":3,"unreadCount":0,"lastMessage":null}])");
  EXPECT_EQ(to_json(std::vector<room_summary>{}), "[]");
  EXPECT_EQ(to_json(history_page{{sample_message(9), sample_message(8)}, true, 8}),
            R"({"messages":[)" + to_json(sample_message(9)) + "," + to_json(sample_message(8)) +
                R"(],"hasMore":true,"nextCursor":8})");
  EXPECT_EQ(to_json(history_page{}), R"({"messages":[],"hasMore":false,"nextCursor":null})");
  EXPECT_EQ(to_json(unread_state{3, 11}), R"({"unreadCount":3,"lastReadMessageId":11})");
  EXPECT_EQ(to_json(read_accepted{4, 12}), R"({"roomId":4,"lastReadMessageId":12})");
  EXPECT_EQ(encode(std::vector<std::int64_t>{1, 2, 3}), "[1,2,3]");
  EXPECT_EQ(encode(std::vector<std::int64_t>{}), "[]");
  EXPECT_EQ(to_json(api_error{"not_found", "no such room"}),
            R"({"error":{"code":"not_found","message":"no such room"}})");
}

TEST(RestAnswers, HistoryPageJsonWithoutCopy) {
  const std::vector<chat_message> messages = {sample_message(9)};
  std::string out;
  append_history_page_json(messages, false, std::nullopt, out);
  EXPECT_EQ(out, to_json(history_page{messages, false, std::nullopt}));
}

TEST(RestAnswers, RoundTrips) {
  for (const auto& text : hostile_strings()) {
    expect_round_trip(session{"tok" + text, 1, text, text}, parse_session);
    expect_round_trip(user{2, text, text, t0}, parse_user);
    expect_round_trip(user_ref{3, text}, parse_user_ref);
    expect_round_trip(room{4, room_type::group, text, 7, t0, {{7, text}}}, parse_room);
    expect_round_trip(room{4, room_type::group, text, 7, t0, {{7, text, room_role::admin}}, text, {1, 2}}, parse_room);
    expect_round_trip(api_error{text, text}, parse_api_error);
    auto m = sample_message(1);
    m.content = text;
    m.sender_nickname = text;
    expect_round_trip(room_summary{5, room_type::group, text, 3, 2, m}, parse_room_summary);
    expect_round_trip(history_page{{m, sample_message(0)}, true, 0}, parse_history_page);
  }
  expect_round_trip(room{4, room_type::direct, std::nullopt, 7, t0, {}}, parse_room);
  expect_round_trip(invite_result{sample_room(), {8, 9}}, parse_invite_result);
  expect_round_trip(invite_result{sample_room(), {}}, parse_invite_result);
  expect_round_trip(history_page{}, parse_history_page);
  expect_round_trip(unread_state{0, 0}, parse_unread_state);
  expect_round_trip(unread_state{3, (std::int64_t{1} << 40) | 5}, parse_unread_state);
  expect_round_trip(read_accepted{4, 12}, parse_read_accepted);
  const std::vector<room_summary> rooms = {{4, room_type::direct, std::nullopt, 2, 1, sample_message(1)},
                                           {5, room_type::group, "ops", 3, 0, std::nullopt}};
  expect_round_trip(rooms, parse_room_list);
  expect_round_trip(std::vector<room_summary>{}, parse_room_list);
  expect_round_trip(std::vector<std::int64_t>{9, 1, 9223372036854775807}, parse_user_ids);
  expect_round_trip(std::vector<member_read>{{7, 0}, {8, (std::int64_t{1} << 40) | 5}}, parse_member_reads);
  expect_round_trip(std::vector<member_read>{}, parse_member_reads);
}

TEST(RestAnswers, MemberReads) {
  EXPECT_EQ(encode(std::vector<member_read>{{7, 0}, {8, 12}}),
            R"([{"userId":7,"lastReadMessageId":0},{"userId":8,"lastReadMessageId":12}])");
  std::vector<member_read> reads{{1, 1}};
  EXPECT_TRUE(fails_with(parse_member_reads(R"([{"userId":0,"lastReadMessageId":1}])", reads), errc::out_of_range,
                         "[0].userId"));
  EXPECT_TRUE(fails_with(parse_member_reads(R"([{"userId":1,"lastReadMessageId":1},{"userId":2}])", reads),
                         errc::missing_field, "[1].lastReadMessageId"));
  EXPECT_TRUE(fails_with(parse_member_reads(R"([{"userId":1,"lastReadMessageId":-1}])", reads), errc::out_of_range,
                         "[0].lastReadMessageId"));
  EXPECT_TRUE(fails_with(parse_member_reads(R"([7])", reads), errc::not_an_object, "[0]"));
  EXPECT_TRUE(fails_with(parse_member_reads(R"({"userId":1})", reads), errc::wrong_type, ""));
  EXPECT_TRUE(fails_with(parse_member_reads("[", reads), errc::invalid_json, ""));
  EXPECT_EQ(reads, (std::vector<member_read>{{1, 1}}));  // untouched by a refusal
}

TEST(RestAnswers, RoomToleratesAbsentOptionalMembers) {
  room out;
  ASSERT_FALSE(parse_room(R"({"id":1,"type":"GROUP","name":"x"})", out));
  EXPECT_EQ(out, (room{1, room_type::group, "x", 0, 0, {}}));
  // chatctl's room view: no createdAt
  ASSERT_FALSE(
      parse_room(R"({"id":4,"type":"DIRECT","name":null,"createdBy":7,"members":[{"userId":7,"nickname":"a"}]})", out));
  EXPECT_EQ(out, (room{4, room_type::direct, std::nullopt, 7, 0, {{7, "a"}}}));
  // unknown members are ignored
  ASSERT_FALSE(parse_room(R"({"id":2,"type":"GROUP","topic":{"x":[1]}})", out));
  EXPECT_EQ(out.id, 2);
}

TEST(RestAnswers, RejectWrongTypes) {
  session s;
  EXPECT_TRUE(
      fails_with(parse_session(R"({"token":5,"userId":7,"email":"e","nickname":"n"})", s), errc::wrong_type, "token"));
  EXPECT_TRUE(fails_with(parse_session(R"({"token":"t","userId":"7","email":"e","nickname":"n"})", s), errc::wrong_type,
                         "userId"));
  EXPECT_TRUE(fails_with(parse_session(R"({"token":"t","userId":7.5,"email":"e","nickname":"n"})", s), errc::wrong_type,
                         "userId"));
  user u;
  EXPECT_TRUE(fails_with(parse_user(R"({"id":7,"email":"e","nickname":"n","createdAt":"yesterday"})", u),
                         errc::bad_format, "createdAt"));
  room r;
  EXPECT_TRUE(fails_with(parse_room(R"({"id":"1","type":"GROUP"})", r), errc::wrong_type, "id"));
  EXPECT_TRUE(fails_with(parse_room(R"({"id":1,"type":"GROUP","name":3})", r), errc::wrong_type, "name"));
  EXPECT_TRUE(fails_with(parse_room(R"({"id":1,"type":"CHANNEL"})", r), errc::bad_format, "type"));
  EXPECT_TRUE(fails_with(parse_room(R"({"id":1,"type":"GROUP","members":{}})", r), errc::wrong_type, "members"));
  EXPECT_TRUE(fails_with(parse_room(R"({"id":1,"type":"GROUP","members":[7]})", r), errc::wrong_type, "members[0]"));
  EXPECT_TRUE(fails_with(
      parse_room(R"({"id":1,"type":"GROUP","members":[{"userId":7,"nickname":"a"},{"userId":true,"nickname":"b"}]})",
                 r),
      errc::wrong_type, "members[1].userId"));
  EXPECT_TRUE(fails_with(parse_room(R"({"id":1,"type":"GROUP","createdBy":0})", r), errc::out_of_range, "createdBy"));
  EXPECT_TRUE(fails_with(parse_room("[]", r), errc::not_an_object, ""));
  room_summary summary;
  EXPECT_TRUE(
      fails_with(parse_room_summary(R"({"id":1,"type":"GROUP","name":null,"memberCount":-1,"unreadCount":0})", summary),
                 errc::out_of_range, "memberCount"));
  EXPECT_TRUE(fails_with(
      parse_room_summary(
          R"({"id":1,"type":"GROUP","name":null,"memberCount":1,"unreadCount":0,"lastMessage":{"id":5,"content":"x"}})",
          summary),
      errc::missing_field, "lastMessage.messageKey"));
  EXPECT_TRUE(fails_with(
      parse_room_summary(R"({"id":1,"type":"GROUP","name":null,"memberCount":1,"unreadCount":0,"lastMessage":"hi"})",
                         summary),
      errc::wrong_type, "lastMessage"));
  std::vector<room_summary> rooms;
  EXPECT_TRUE(fails_with(parse_room_list("{}", rooms), errc::wrong_type, ""));
  EXPECT_TRUE(fails_with(parse_room_list("[1]", rooms), errc::wrong_type, "[0]"));
  history_page page;
  EXPECT_TRUE(fails_with(parse_history_page(R"({"messages":{},"hasMore":false})", page), errc::wrong_type, "messages"));
  EXPECT_TRUE(fails_with(parse_history_page(R"({"messages":[],"hasMore":"no"})", page), errc::wrong_type, "hasMore"));
  EXPECT_TRUE(fails_with(parse_history_page(R"({"messages":[],"hasMore":true,"nextCursor":"8"})", page),
                         errc::wrong_type, "nextCursor"));
  unread_state unread;
  EXPECT_TRUE(fails_with(parse_unread_state(R"({"unreadCount":true,"lastReadMessageId":0})", unread), errc::wrong_type,
                         "unreadCount"));
  std::vector<std::int64_t> ids;
  EXPECT_TRUE(fails_with(parse_user_ids(R"([1,"2"])", ids), errc::wrong_type, "userIds[1]"));
  EXPECT_TRUE(fails_with(parse_user_ids(R"([1,0])", ids), errc::out_of_range, "userIds[1]"));
  EXPECT_TRUE(fails_with(parse_user_ids(R"([18446744073709551615])", ids), errc::out_of_range, "userIds[0]"));
  EXPECT_TRUE(fails_with(parse_user_ids(R"({"0":1})", ids), errc::wrong_type, "userIds"));
  api_error e;
  EXPECT_TRUE(fails_with(parse_api_error(R"({"error":"boom"})", e), errc::wrong_type, "error"));
  EXPECT_TRUE(
      fails_with(parse_api_error(R"({"error":{"code":404,"message":"m"}})", e), errc::wrong_type, "error.code"));
}

TEST(RestAnswers, RejectMissingMembers) {
  session s;
  EXPECT_TRUE(fails_with(parse_session(R"({"userId":7,"email":"e","nickname":"n"})", s), errc::missing_field, "token"));
  user u;
  EXPECT_TRUE(fails_with(parse_user(R"({"id":7,"email":"e","nickname":"n"})", u), errc::missing_field, "createdAt"));
  user_ref ref;
  EXPECT_TRUE(fails_with(parse_user_ref(R"({"id":7})", ref), errc::missing_field, "nickname"));
  room r;
  EXPECT_TRUE(fails_with(parse_room(R"({"type":"GROUP"})", r), errc::missing_field, "id"));
  EXPECT_TRUE(fails_with(parse_room(R"({"id":1,"type":"GROUP","members":[{"userId":7}]})", r), errc::missing_field,
                         "members[0].nickname"));
  invite_result invite;
  EXPECT_TRUE(fails_with(parse_invite_result(R"({"id":1,"type":"GROUP"})", invite), errc::missing_field, "added"));
  history_page page;
  EXPECT_TRUE(fails_with(parse_history_page(R"({"hasMore":false})", page), errc::missing_field, "messages"));
  EXPECT_TRUE(fails_with(parse_history_page(R"({"messages":[]})", page), errc::missing_field, "hasMore"));
  unread_state unread;
  EXPECT_TRUE(fails_with(parse_unread_state(R"({"unreadCount":1})", unread), errc::missing_field, "lastReadMessageId"));
  read_accepted accepted;
  EXPECT_TRUE(fails_with(parse_read_accepted(R"({"lastReadMessageId":1})", accepted), errc::missing_field, "roomId"));
  api_error e;
  EXPECT_TRUE(fails_with(parse_api_error(R"({"code":"x","message":"y"})", e), errc::missing_field, "error"));
  EXPECT_TRUE(fails_with(parse_api_error(R"({"error":{"code":"x"}})", e), errc::missing_field, "error.message"));
}

TEST(RestAnswers, RejectBrokenJsonAndInvalidUtf8) {
  session s;
  EXPECT_TRUE(fails_with(parse_session("{\"token\":\"t\xFF\",\"userId\":7,\"email\":\"e\",\"nickname\":\"n\"}", s),
                         errc::invalid_json, ""));
  EXPECT_TRUE(fails_with(parse_session(R"({"token":"t",)", s), errc::invalid_json, ""));
  EXPECT_TRUE(fails_with(parse_session("", s), errc::invalid_json, ""));
  room r;
  EXPECT_TRUE(fails_with(parse_room("{\"id\":1,\"type\":\"GROUP\",\"name\":\"\xC0\xAF\"}", r), errc::invalid_json, ""));
  std::vector<room_summary> rooms;
  EXPECT_TRUE(fails_with(parse_room_list("[{\"id\":1,\"name\":\"\xED\xA0\x80\"}]", rooms), errc::invalid_json, ""));
  std::vector<std::int64_t> ids;
  EXPECT_TRUE(fails_with(parse_user_ids("[1,", ids), errc::invalid_json, ""));
  // A failed parse leaves the output alone.
  session kept{"keep", 1, "e", "n"};
  EXPECT_TRUE(parse_session("nope", kept));
  EXPECT_EQ(kept.token, "keep");
}

TEST(RestAnswers, EncodersReplaceInvalidUtf8SoTheOutputAlwaysParses) {
  const std::string text = to_json(user_ref{1, "bad\xFF\xC0 tail"});
  EXPECT_NO_THROW(reparse(text));
  user_ref back;
  ASSERT_FALSE(parse_user_ref(text, back));
  EXPECT_EQ(back.nickname, "bad\xEF\xBF\xBD\xEF\xBF\xBD tail");
}
