#include "api/render.hpp"

#include <chat/proto/people.hpp>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

using namespace chat::chatd::api;
using nlohmann::json;

namespace {

chat::proto::chat_message message(std::int64_t id, std::string content = "hi") {
  chat::proto::chat_message m;
  m.id = id;
  m.message_key = "3b241101-e2bb-4255-8caf-4136c566a962";
  m.room_id = 7;
  m.sender_id = 3;
  m.sender_nickname = "bob";
  m.content = std::move(content);
  m.type = chat::proto::message_type::text;
  m.created_at_ms = 1'795'780'800'123;  // 2026-11-27T12:00:00.123Z
  return m;
}

}  // namespace

TEST(RenderHistory, MiddlePageCarriesHasMoreAndTheLastIdAsCursor) {
  chat::store::history_page page;
  page.messages = {message(30), message(29)};
  page.has_more = true;
  const auto body = json::parse(render_history(page));
  ASSERT_EQ(body["messages"].size(), 2u);
  EXPECT_EQ(body["messages"][0]["id"], 30);
  EXPECT_EQ(body["hasMore"], true);
  EXPECT_EQ(body["nextCursor"], 29);
  const auto& m = body["messages"][1];
  EXPECT_EQ(m["messageKey"], "3b241101-e2bb-4255-8caf-4136c566a962");
  EXPECT_EQ(m["roomId"], 7);
  EXPECT_EQ(m["senderId"], 3);
  EXPECT_EQ(m["senderNickname"], "bob");
  EXPECT_EQ(m["type"], "TEXT");
  EXPECT_EQ(m["createdAt"], "2026-11-27T12:00:00.123Z");
}

TEST(RenderHistory, LastAndEmptyPagesHaveANullCursor) {
  chat::store::history_page last;
  last.messages = {message(2)};
  EXPECT_EQ(json::parse(render_history(last))["nextCursor"], nullptr);
  EXPECT_EQ(json::parse(render_history(last))["hasMore"], false);
  EXPECT_EQ(render_history({}), R"({"messages":[],"hasMore":false,"nextCursor":null})");
}

TEST(RenderRoomList, HasEveryFieldAndNullForNoMessage) {
  chat::store::room_summary direct;
  direct.id = 1;
  direct.type = chat::store::room_type::direct;
  direct.member_count = 2;
  chat::store::room_summary group;
  group.id = 2;
  group.name = "team \"a\"";
  group.member_count = 5;
  group.unread_count = 4;
  group.last_message = message(99, "line\nbreak");
  const auto body = json::parse(render_room_list({direct, group}));
  ASSERT_TRUE(body.is_array());
  ASSERT_EQ(body.size(), 2u);
  EXPECT_EQ(body[0], json::parse(R"({"id":1,"type":"DIRECT","name":null,"memberCount":2,"unreadCount":0,
                                      "lastMessage":null})"));
  EXPECT_EQ(body[1]["name"], "team \"a\"");
  EXPECT_EQ(body[1]["type"], "GROUP");
  EXPECT_EQ(body[1]["unreadCount"], 4);
  EXPECT_EQ(body[1]["lastMessage"]["content"], "line\nbreak");
  EXPECT_EQ(render_room_list({}), "[]");
}

TEST(RenderRoom, MembersInOrderAndHostileNamesEscaped) {
  chat::store::room_detail room;
  room.id = 5;
  room.type = chat::store::room_type::group;
  room.name = std::string("x\"}],\"evil\":1,\x01 ") + "\xff";  // invalid UTF-8 becomes U+FFFD
  room.created_by = 3;
  room.created_at_ms = 0;
  room.members = {{3, "carol"}, {4, "<script>"}};
  const auto text = render_room(room);
  const auto body = json::parse(text);  // throws if the escaping broke the JSON
  EXPECT_FALSE(body.contains("evil"));
  EXPECT_EQ(body["createdAt"], "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(body["createdBy"], 3);
  ASSERT_EQ(body["members"].size(), 2u);
  EXPECT_EQ(body["members"][1], json::parse(R"({"userId":4,"nickname":"<script>","role":"MEMBER"})"));
  EXPECT_EQ(body["notice"], nullptr);
  EXPECT_EQ(body["pinned"], json::parse("[]"));

  const auto invited = json::parse(render_room_after_invite(room, {{4, "<script>"}}));
  EXPECT_EQ(invited["added"], json::parse("[4]"));
  EXPECT_EQ(invited["id"], 5);
}

TEST(RenderAccounts, SessionMeAndLookup) {
  chat::store::user_record u;
  u.id = 9;
  u.email = "a@example.com";
  u.nickname = "ann";
  u.password_hash = "$argon2id$secret";
  u.created_at_ms = 1'795'780'800'000;
  const auto session = json::parse(render_session(u, "t.o.k"));
  EXPECT_EQ(session, json::parse(R"({"token":"t.o.k","userId":9,"email":"a@example.com","nickname":"ann"})"));
  const auto me = render_me(u);
  EXPECT_EQ(json::parse(me),
            json::parse(R"({"id":9,"email":"a@example.com","nickname":"ann","createdAt":"2026-11-27T12:00:00.000Z",)"
                        R"("statusMessage":null,"avatarUrl":null})"));
  EXPECT_EQ(me.find("argon2"), std::string::npos);  // the hash never leaves the server
  // Others' view: no email, lastSeenAt only while offline.
  u.status_message = "busy";
  u.last_seen_at_ms = 1'795'780'800'000;
  EXPECT_EQ(json::parse(chat::proto::to_json(profile_of(chat::store::person_of(u), false))),
            json::parse(R"({"id":9,"nickname":"ann","statusMessage":"busy","avatarUrl":null,"online":false,)"
                        R"("lastSeenAt":"2026-11-27T12:00:00.000Z"})"));
  EXPECT_EQ(json::parse(chat::proto::to_json(profile_of(chat::store::person_of(u), true))),
            json::parse(R"({"id":9,"nickname":"ann","statusMessage":"busy","avatarUrl":null,"online":true,)"
                        R"("lastSeenAt":null})"));
  EXPECT_EQ(json::parse(render_user_ref(u)), json::parse(R"({"id":9,"nickname":"ann"})"));
}

TEST(RenderSmallBodies, UnreadIdsAndReadAccepted) {
  EXPECT_EQ(render_unread({3, 12}), R"({"unreadCount":3,"lastReadMessageId":12})");
  EXPECT_EQ(render_ids({}), "[]");
  EXPECT_EQ(render_ids({1, 22, 333}), "[1,22,333]");
  EXPECT_EQ(render_read_accepted(4, 5), R"({"roomId":4,"lastReadMessageId":5})");
}

TEST(RenderLifecycle, AcceptedEventPagesPinsAndBookmarks) {
  EXPECT_EQ(render_event_accepted(1099511627776, "3b241101-e2bb-4255-8caf-4136c566a962"),
            R"({"id":1099511627776,"messageKey":"3b241101-e2bb-4255-8caf-4136c566a962"})");
  auto item = message(5);
  item.state = chat::proto::message_state{};
  item.state->reactions = {{"👍", 2, true}};
  const auto pins = json::parse(render_items({item}));
  ASSERT_EQ(pins.size(), 1u);
  EXPECT_EQ(pins[0]["reactions"], json::parse(R"([{"emoji":"👍","count":2,"me":true}])"));
  EXPECT_EQ(pins[0]["deleted"], false);
  EXPECT_EQ(render_items({}), "[]");
  // A thread page in the order given (oldest first), cursor = the last id while there is more.
  const auto page = json::parse(render_page({message(1), message(2)}, true));
  EXPECT_EQ(page["messages"][0]["id"], 1);
  EXPECT_EQ(page["nextCursor"], 2);
  EXPECT_EQ(render_page({}, false), R"({"messages":[],"hasMore":false,"nextCursor":null})");
  const auto marks = json::parse(render_bookmarks({message(9), message(4)}, true));
  EXPECT_EQ(marks["items"][1]["roomId"], 7);
  EXPECT_EQ(marks["nextCursor"], 4);
  EXPECT_EQ(render_bookmarks({message(9)}, false),
            std::string(R"({"items":[)") + chat::proto::to_json(message(9)) + R"(],"nextCursor":null})");
}
