#include <chat/proto/message.hpp>

#include "test_support.hpp"

using namespace chat::proto;
using chat::proto::test::fails_with;
using chat::proto::test::hostile_strings;
using chat::proto::test::reparse;

namespace {

constexpr std::int64_t created = 1'795'262'400'123;  // 2026-11-21T12:00:00.123Z

chat_message sample() {
  chat_message m;
  m.id = make_message_id(3, 17);
  m.message_key = "3b241101-e2bb-4255-8caf-4136c566a962";
  m.room_id = 42;
  m.sender_id = 7;
  m.sender_nickname = "alice";
  m.content = "hello";
  m.type = message_type::text;
  m.created_at_ms = created;
  return m;
}

// A valid message as JSON, with one member replaced (or removed when value is empty).
std::string with(std::string_view name, std::string_view value) {
  nlohmann::ordered_json j = nlohmann::ordered_json::parse(R"({"id":5,
      "messageKey":"3b241101-e2bb-4255-8caf-4136c566a962","roomId":42,"senderId":7,
      "senderNickname":"alice","content":"hello","type":"TEXT",
      "createdAt":"2026-11-21T12:00:00.123Z"})");
  if (value.empty()) {
    j.erase(std::string(name));
  } else {
    j[std::string(name)] = nlohmann::ordered_json::parse(value);
  }
  return j.dump();
}

validation_error parse(const std::string& json, std::size_t max = default_max_content_code_points) {
  chat_message out;
  return parse_chat_message(json, out, max);
}

}  // namespace

TEST(ChatMessage, SerializesExactlyTheSpecShape) {
  chat_message m = sample();
  m.id = 1;
  EXPECT_EQ(to_json(m), R"({"id":1,"messageKey":"3b241101-e2bb-4255-8caf-4136c566a962","roomId":42,)"
                        R"("senderId":7,"senderNickname":"alice","content":"hello","type":"TEXT",)"
                        R"("createdAt":"2026-11-21T12:00:00.123Z"})");
}

TEST(ChatMessage, KeepsAnIdOfZero) {
  chat_message m = sample();
  m.id = 0;  // partition 0, offset 0: a real id
  EXPECT_EQ(to_json(m).rfind(R"({"id":0,"messageKey")", 0), 0u);
}

TEST(ChatMessage, OmitsIdWhenNotYetAssigned) {
  chat_message m = sample();
  m.id = -1;
  m.type = message_type::system;
  EXPECT_EQ(to_json(m), R"({"messageKey":"3b241101-e2bb-4255-8caf-4136c566a962","roomId":42,)"
                        R"("senderId":7,"senderNickname":"alice","content":"hello","type":"SYSTEM",)"
                        R"("createdAt":"2026-11-21T12:00:00.123Z"})");
}

TEST(ChatMessage, AppendsAfterExistingBytes) {
  std::string out = "prefix";
  append_json(sample(), out);
  EXPECT_EQ(out.rfind("prefix{", 0), 0u);
}

TEST(ChatMessage, RoundTrips) {
  for (const chat_message& m : {sample(), [] {
                                  chat_message s = sample();
                                  s.id = -1;
                                  s.type = message_type::system;
                                  s.created_at_ms = 0;
                                  s.room_id = INT64_MAX;
                                  s.sender_id = 1;
                                  return s;
                                }()}) {
    chat_message back;
    const auto error = parse_chat_message(to_json(m), back);
    ASSERT_FALSE(error) << error.message;
    EXPECT_EQ(back, m);
  }
}

TEST(ChatMessage, ALateScheduledMessageCarriesScheduledFor) {
  chat_message m = sample();
  m.id = 1;
  m.scheduled_for_ms = created - 3'600'000;
  EXPECT_EQ(to_json(m), R"({"id":1,"messageKey":"3b241101-e2bb-4255-8caf-4136c566a962","roomId":42,)"
                        R"("senderId":7,"senderNickname":"alice","content":"hello","type":"TEXT",)"
                        R"("createdAt":"2026-11-21T12:00:00.123Z","scheduledFor":"2026-11-21T11:00:00.123Z"})");
  chat_message back;
  ASSERT_FALSE(parse_chat_message(to_json(m), back));
  EXPECT_EQ(back, m);
  // Absent or null: none; anything but a timestamp: refused.
  ASSERT_FALSE(parse_chat_message(with("scheduledFor", "null"), back));
  EXPECT_EQ(back.scheduled_for_ms, std::nullopt);
  EXPECT_TRUE(
      fails_with(parse_chat_message(with("scheduledFor", R"("yesterday")"), back), errc::bad_format, "scheduledFor"));
}

TEST(ChatMessage, HostileStringsSurviveSerialization) {
  for (const std::string& s : hostile_strings()) {
    chat_message m = sample();
    m.content = s;
    m.sender_nickname = s;
    const std::string json = to_json(m);
    const nlohmann::json parsed = reparse(json);
    EXPECT_EQ(parsed.at("content").get<std::string>(), s);
    EXPECT_EQ(parsed.at("senderNickname").get<std::string>(), s);
    chat_message back;
    const auto error = parse_chat_message(json, back, 1'000'000);
    ASSERT_FALSE(error) << error.message;
    EXPECT_EQ(back, m);
  }
}

TEST(ChatMessage, InvalidUtf8InContentStillGivesValidJson) {
  chat_message m = sample();
  m.content = "bad\xFF\xFE";
  const nlohmann::json parsed = reparse(to_json(m));
  EXPECT_EQ(parsed.at("content").get<std::string>(), "bad\xEF\xBF\xBD\xEF\xBF\xBD");
}

TEST(ChatMessage, ParsesUnknownMembersAndNormalizesKey) {
  chat_message out;
  const auto error = parse_chat_message(
      with("messageKey", R"("3B241101-E2BB-4255-8CAF-4136C566A962")").insert(1, R"("extra":[1,{}],)"), out);
  ASSERT_FALSE(error) << error.message;
  EXPECT_EQ(out.message_key, "3b241101-e2bb-4255-8caf-4136c566a962");
}

TEST(ChatMessage, IdIsOptional) {
  chat_message out;
  ASSERT_FALSE(parse_chat_message(with("id", ""), out));
  EXPECT_EQ(out.id, -1);
  ASSERT_FALSE(parse_chat_message(with("id", "null"), out));
  EXPECT_EQ(out.id, -1);
  ASSERT_FALSE(parse_chat_message(with("id", "0"), out));
  EXPECT_EQ(out.id, 0);
  EXPECT_TRUE(fails_with(parse(with("id", "-1")), errc::out_of_range, "id"));
  EXPECT_TRUE(fails_with(parse(with("id", "1.5")), errc::wrong_type, "id"));
  EXPECT_TRUE(fails_with(parse(with("id", R"("5")")), errc::wrong_type, "id"));
}

TEST(ChatMessage, ContentLengthBoundaryInCodePoints) {
  // 4000 euro signs are 12000 bytes but 4000 characters.
  std::string content;
  for (int i = 0; i < 4000; ++i) content += "\xE2\x82\xAC";
  const nlohmann::json at_limit = content;
  EXPECT_FALSE(parse(with("content", at_limit.dump())));
  const nlohmann::json over = content + "a";
  EXPECT_TRUE(fails_with(parse(with("content", over.dump())), errc::bad_length, "content"));
  // The limit is a parameter.
  EXPECT_FALSE(parse(with("content", R"("abc")"), 3));
  EXPECT_TRUE(fails_with(parse(with("content", R"("abcd")"), 3), errc::bad_length, "content"));
}

TEST(ChatMessage, ValidatesEveryField) {
  EXPECT_TRUE(fails_with(parse(with("messageKey", "")), errc::missing_field, "messageKey"));
  EXPECT_TRUE(fails_with(parse(with("messageKey", R"("not-a-uuid")")), errc::bad_format, "messageKey"));
  EXPECT_TRUE(fails_with(parse(with("messageKey", "5")), errc::wrong_type, "messageKey"));
  EXPECT_TRUE(fails_with(parse(with("roomId", "")), errc::missing_field, "roomId"));
  EXPECT_TRUE(fails_with(parse(with("roomId", "0")), errc::out_of_range, "roomId"));
  EXPECT_TRUE(fails_with(parse(with("roomId", "-42")), errc::out_of_range, "roomId"));
  EXPECT_TRUE(fails_with(parse(with("roomId", "42.0")), errc::wrong_type, "roomId"));
  EXPECT_TRUE(fails_with(parse(with("roomId", R"("42")")), errc::wrong_type, "roomId"));
  EXPECT_TRUE(fails_with(parse(with("roomId", "true")), errc::wrong_type, "roomId"));
  EXPECT_TRUE(fails_with(parse(with("roomId", "null")), errc::wrong_type, "roomId"));
  EXPECT_TRUE(fails_with(parse(with("roomId", "9223372036854775808")), errc::out_of_range, "roomId"));
  EXPECT_TRUE(fails_with(parse(with("senderId", "0")), errc::out_of_range, "senderId"));
  EXPECT_TRUE(fails_with(parse(with("senderNickname", "")), errc::missing_field, "senderNickname"));
  EXPECT_TRUE(fails_with(parse(with("senderNickname", "[]")), errc::wrong_type, "senderNickname"));
  EXPECT_TRUE(fails_with(parse(with("content", "")), errc::missing_field, "content"));
  EXPECT_TRUE(fails_with(parse(with("content", "{}")), errc::wrong_type, "content"));
  EXPECT_TRUE(fails_with(parse(with("type", R"("text")")), errc::bad_format, "type"));
  EXPECT_TRUE(fails_with(parse(with("type", R"("VIDEO")")), errc::bad_format, "type"));
  EXPECT_TRUE(fails_with(parse(with("type", R"("IMAGE")")), errc::missing_field, "attachment"));
  EXPECT_TRUE(fails_with(parse(with("type", "1")), errc::wrong_type, "type"));
  EXPECT_TRUE(fails_with(parse(with("createdAt", "")), errc::missing_field, "createdAt"));
  EXPECT_TRUE(fails_with(parse(with("createdAt", "1795262400123")), errc::wrong_type, "createdAt"));
  EXPECT_TRUE(fails_with(parse(with("createdAt", R"("yesterday")")), errc::bad_format, "createdAt"));
  EXPECT_TRUE(fails_with(parse(with("createdAt", R"("2026-02-30T00:00:00Z")")), errc::bad_format, "createdAt"));
}

TEST(ChatMessage, RejectsNonObjectsAndBrokenJson) {
  EXPECT_TRUE(fails_with(parse(""), errc::invalid_json, ""));
  EXPECT_TRUE(fails_with(parse("{"), errc::invalid_json, ""));
  EXPECT_TRUE(fails_with(parse(with("content", R"("x")") + "x"), errc::invalid_json, ""));
  EXPECT_TRUE(fails_with(parse("{\"content\":\"\xFF\"}"), errc::invalid_json, ""));  // bad UTF-8
  EXPECT_TRUE(fails_with(parse("[]"), errc::not_an_object, ""));
  EXPECT_TRUE(fails_with(parse("null"), errc::not_an_object, ""));
  EXPECT_TRUE(fails_with(parse("42"), errc::not_an_object, ""));
  EXPECT_TRUE(fails_with(parse(R"("text")"), errc::not_an_object, ""));
}

TEST(ChatMessage, SurvivesDeepNesting) {
  const std::string deep = std::string(100'000, '[') + std::string(100'000, ']');
  EXPECT_TRUE(fails_with(parse(deep), errc::not_an_object, ""));
  const std::string deep_member = R"({"extra":)" + deep + "}";
  EXPECT_TRUE(fails_with(parse(deep_member), errc::missing_field, "messageKey"));
}

TEST(ChatMessage, LeavesOutputUntouchedOnFailure) {
  chat_message out = sample();
  EXPECT_TRUE(parse_chat_message(with("roomId", "0"), out));
  EXPECT_EQ(out, sample());
}

TEST(MessageType, Names) {
  EXPECT_EQ(to_string(message_type::text), "TEXT");
  EXPECT_EQ(to_string(message_type::system), "SYSTEM");
  EXPECT_EQ(parse_message_type("SYSTEM"), message_type::system);
  EXPECT_EQ(parse_message_type("System"), std::nullopt);
}

TEST(MembershipNotice, NamesTheMemberAndTheChange) {
  const auto joined = membership_notice(4, 9, "zoë", membership_change::joined);
  EXPECT_EQ(joined.event, event_kind::member_joined);
  EXPECT_EQ(joined.content, "zoë joined");
  EXPECT_EQ(joined.type, message_type::system);
  EXPECT_EQ(joined.sender_id, 9);
  EXPECT_EQ(joined.user_id, 9);
  EXPECT_EQ(joined.role, room_role::member);
  EXPECT_EQ(joined.room_id, 4);
  EXPECT_FALSE(departed_member(joined));
  EXPECT_EQ(joined_member(joined), 9);
  const auto left = membership_notice(4, 9, "zoë", membership_change::left);
  EXPECT_EQ(left.event, event_kind::member_left);
  EXPECT_EQ(left.content, "zoë left");
  EXPECT_EQ(departed_member(left), 9);
  EXPECT_FALSE(joined_member(left));
}

// The SYSTEM messages that announced departures before the administration events existed still
// count (records and history of before), exactly as they were written.
TEST(MembershipNotice, ALegacySystemNoticeOfTheSendersOwnNicknameIsADeparture) {
  auto legacy = [](std::string nickname, std::string content) {
    chat_message m;
    m.room_id = 4;
    m.sender_id = 9;
    m.sender_nickname = std::move(nickname);
    m.content = std::move(content);
    m.type = message_type::system;
    return m;
  };
  EXPECT_EQ(departed_member(legacy("ann", "ann left")), 9);
  EXPECT_EQ(joined_member(legacy("ann", "ann joined")), 9);
  auto m = legacy("ann", "ann left");
  m.type = message_type::text;
  EXPECT_FALSE(departed_member(m)) << "clients cannot send SYSTEM messages; TEXT ones say nothing";
  EXPECT_FALSE(departed_member(legacy("bob", "ann left")));
  EXPECT_FALSE(departed_member(legacy("x left", "x left joined")));
  EXPECT_FALSE(departed_member(legacy("ann", "ann  left")));
}

TEST(AdminEvents, NoticesCarryTheMemberTheRoleAndTheText) {
  const auto removed = member_removed_notice(4, 1, "ann", 9, "bob");
  EXPECT_EQ(removed.event, event_kind::member_removed);
  EXPECT_EQ(removed.sender_id, 1);
  EXPECT_EQ(removed.user_id, 9);
  EXPECT_EQ(removed.content, "ann removed bob");
  EXPECT_EQ(departed_member(removed), 9);
  const auto role = member_role_notice(4, 1, "ann", 9, "bob", room_role::admin);
  EXPECT_EQ(role.content, "bob is now an admin");
  EXPECT_EQ(role.role, room_role::admin);
  EXPECT_FALSE(departed_member(role));
  EXPECT_EQ(member_role_notice(4, 1, "ann", 9, "bob", room_role::owner).content, "bob is now the owner");
  EXPECT_EQ(member_role_notice(4, 1, "ann", 9, "bob", room_role::member).content, "bob is now a member");
  EXPECT_EQ(room_updated_notice(4, 1, "ann", "ops", std::nullopt).content, "ann renamed the room to ops");
  EXPECT_EQ(room_updated_notice(4, 1, "ann", std::nullopt, "be nice").content, "ann changed the notice");
  EXPECT_EQ(room_updated_notice(4, 1, "ann", "ops", "").content, "ann renamed the room to ops and cleared the notice");
  const auto deleted = room_deleted_notice(4, 1, "ann");
  EXPECT_TRUE(ends_room(deleted));
  EXPECT_EQ(deleted.content, "ann deleted the room");
  EXPECT_FALSE(ends_room(removed));
  EXPECT_TRUE(is_history_notice(event_kind::member_left));
  EXPECT_FALSE(is_history_notice(event_kind::room_deleted));
  EXPECT_FALSE(is_history_notice(event_kind::edited));
  EXPECT_TRUE(is_admin_event(event_kind::room_deleted));
  EXPECT_FALSE(is_admin_event(event_kind::pinned));
}

TEST(AdminEvents, JsonRoundTripsAndHistoryFormIsASystemMessage) {
  auto role = member_role_notice(4, 1, "ann", 9, "bob", room_role::owner);
  role.id = 77;
  role.message_key = "0b6c5c1e-2f4e-4c4b-9d0a-3f0e8a1b2c3d";
  role.created_at_ms = 1'700'000'000'123;
  const auto json = to_json(role);
  EXPECT_EQ(json, R"({"id":77,"event":"member.role","messageKey":"0b6c5c1e-2f4e-4c4b-9d0a-3f0e8a1b2c3d","roomId":4,)"
                  R"("senderId":1,"senderNickname":"ann","userId":9,"role":"OWNER","content":"bob is now the owner",)"
                  R"("type":"SYSTEM","createdAt":"2023-11-14T22:13:20.123Z"})");
  chat_message back;
  ASSERT_FALSE(parse_chat_message(json, back));
  EXPECT_EQ(back, role);

  auto updated = room_updated_notice(4, 1, "ann", "ops", "");
  updated.message_key = role.message_key;
  updated.created_at_ms = role.created_at_ms;
  ASSERT_FALSE(parse_chat_message(to_json(updated), back));
  EXPECT_EQ(back, updated);
  auto gone = room_deleted_notice(4, 1, "ann");
  gone.message_key = role.message_key;
  ASSERT_FALSE(parse_chat_message(to_json(gone), back));
  EXPECT_EQ(back, gone);

  const auto item = as_history_notice(role);
  EXPECT_EQ(item.event, event_kind::message);
  EXPECT_EQ(item.type, message_type::system);
  EXPECT_EQ(item.id, 77);
  EXPECT_EQ(item.content, "bob is now the owner");
  EXPECT_EQ(item.user_id, 0);
  EXPECT_FALSE(item.role);
}

TEST(AdminEvents, ParsingRefusesWhatTheEventNeeds) {
  const std::string head =
      R"({"messageKey":"0b6c5c1e-2f4e-4c4b-9d0a-3f0e8a1b2c3d","roomId":4,"senderId":1,"senderNickname":"ann",)"
      R"("createdAt":"2026-11-21T12:00:00.123Z","content":"x",)";
  chat_message out;
  EXPECT_TRUE(parse_chat_message(head + R"("event":"member.role","userId":9})", out)) << "role missing";
  EXPECT_TRUE(parse_chat_message(head + R"("event":"member.role","userId":9,"role":"KING"})", out));
  EXPECT_TRUE(parse_chat_message(head + R"("event":"member.removed"})", out)) << "userId missing";
  EXPECT_TRUE(parse_chat_message(head + R"("event":"member.left","userId":0})", out));
  EXPECT_TRUE(parse_chat_message(head + R"("event":"room.updated"})", out)) << "neither name nor notice";
  EXPECT_TRUE(parse_chat_message(head + R"("event":"room.updated","name":"  "})", out));
  EXPECT_TRUE(parse_chat_message(head + R"("event":"room.updated","notice":")" + std::string(501, 'n') + "\"}", out));
  EXPECT_TRUE(parse_chat_message(head + R"("event":"room.deleted","type":"TEXT"})", out));
  EXPECT_FALSE(parse_chat_message(head + R"("event":"room.updated","notice":""})", out));
  EXPECT_EQ(out.notice, "");
  EXPECT_FALSE(parse_chat_message(head + R"("event":"member.joined","userId":9})", out));
  EXPECT_EQ(out.user_id, 9);
  EXPECT_EQ(out.type, message_type::system);
}

TEST(RoomRole, Names) {
  EXPECT_EQ(to_string(room_role::owner), "OWNER");
  EXPECT_EQ(parse_room_role("ADMIN"), room_role::admin);
  EXPECT_EQ(parse_room_role("admin"), std::nullopt);
  EXPECT_TRUE(is_admin_role(room_role::owner));
  EXPECT_TRUE(is_admin_role(room_role::admin));
  EXPECT_FALSE(is_admin_role(room_role::member));
}
