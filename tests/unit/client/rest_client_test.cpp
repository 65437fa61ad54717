#include "fakes.hpp"

#include <chat/client/errc.hpp>
#include <chat/client/rest_client.hpp>
#include <chat/proto/rest.hpp>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace chat::client {
namespace {

using test::fake_http_server;
using test::json_response;
namespace bhttp = test::bhttp;
using request_type = bhttp::request<bhttp::string_body>;

const char* session_json = R"({"token":"t0k","userId":7,"email":"ann@example.com","nickname":"ann"})";

std::string message_json(int id) {
  return R"({"id":)" + std::to_string(id) +
         R"(,"messageKey":"3b241101-e2bb-4255-8caf-4136c566a962","roomId":3,"senderId":7,"senderNickname":"ann","content":"hi","type":"TEXT","createdAt":"2026-11-21T12:00:00.123Z"})";
}

rest_client client_for(const fake_http_server& server, std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
  return rest_client(server.address(), rest_options{.timeout = timeout});
}

TEST(RestClient, LoginSendsJsonAndParsesTheSession) {
  fake_http_server server([](const request_type&) { return json_response(200, session_json); });
  auto api = client_for(server);
  const auto r = api.login("ann@example.com", "pa\"ss");
  ASSERT_TRUE(r) << r.http.error.message() << " " << r.http.status;
  EXPECT_EQ(r.value->token, "t0k");
  EXPECT_EQ(r.value->user_id, 7);
  EXPECT_EQ(r.value->nickname, "ann");

  const auto reqs = server.requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].method(), bhttp::verb::post);
  EXPECT_EQ(reqs[0].target(), "/api/auth/login");
  EXPECT_EQ(reqs[0][bhttp::field::content_type], "application/json");
  EXPECT_EQ(reqs[0].count(bhttp::field::authorization), 0u);
  const auto body = nlohmann::json::parse(reqs[0].body());
  EXPECT_EQ(body, (nlohmann::json{{"email", "ann@example.com"}, {"password", "pa\"ss"}}));
}

TEST(RestClient, TokenBecomesABearerHeader) {
  fake_http_server server([](const request_type&) {
    return json_response(
        200, R"({"id":7,"email":"ann@example.com","nickname":"ann","createdAt":"2026-01-01T00:00:00.000Z"})");
  });
  auto api = client_for(server);
  api.set_token("abc.def.ghi");
  const auto r = api.me();
  ASSERT_TRUE(r);
  EXPECT_EQ(r.value->created_at_ms, 1767225600000);  // 2026-01-01T00:00:00.000Z
  EXPECT_EQ(server.requests().at(0)[bhttp::field::authorization], "Bearer abc.def.ghi");
}

TEST(RestClient, ErrorBodyIsParsed) {
  fake_http_server server([](const request_type&) {
    return json_response(404, R"({"error":{"code":"not_found","message":"no such room"}})");
  });
  auto api = client_for(server);
  const auto r = api.room(42);
  EXPECT_FALSE(r);
  EXPECT_FALSE(r.http.error);
  EXPECT_EQ(r.http.status, 404u);
  EXPECT_EQ(r.http.api.code, "not_found");
  EXPECT_EQ(r.http.api.message, "no such room");
  EXPECT_EQ(server.requests().at(0).target(), "/api/rooms/42");
}

TEST(RestClient, ErrorWithoutJsonBodyGetsASyntheticCode) {
  fake_http_server server([](const request_type&) {
    bhttp::response<bhttp::string_body> res{bhttp::status::bad_gateway, 11};
    res.body() = "upstream down\nmore";
    return res;
  });
  auto api = client_for(server);
  const auto r = api.request(http_method::get, "/x");
  EXPECT_EQ(r.status, 502u);
  EXPECT_EQ(r.api.code, "http_502");
  EXPECT_EQ(r.api.message, "upstream down");
}

TEST(RestClient, KeepAliveReusesOneConnection) {
  fake_http_server server([](const request_type&) { return json_response(200, "[]"); });
  auto api = client_for(server);
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(api.list_rooms());
  EXPECT_EQ(server.connections(), 1);
  EXPECT_EQ(api.connections_opened(), 1u);
}

TEST(RestClient, ConnectionCloseOpensANewConnectionEachTime) {
  fake_http_server server([](const request_type&) { return json_response(200, "[]"); },
                          fake_http_server::mode::close_after);
  auto api = client_for(server);
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(api.list_rooms()) << i;
  EXPECT_EQ(server.connections(), 3);
}

TEST(RestClient, ServerClosingAnIdleConnectionIsNoticedBeforeReuse) {
  fake_http_server server([](const request_type&) { return json_response(200, session_json); },
                          fake_http_server::mode::silent_close);
  auto api = client_for(server);
  ASSERT_TRUE(api.login("a@b.cd", "x"));
  // A POST is not retried blindly: the client must notice the closed connection first.
  for (int i = 0; i < 3; ++i) {
    // The server has shut the connection down without saying so (the FIN is on its way).
    ASSERT_TRUE(test::eventually([&] { return server.closes() == i + 1; }));
    const auto r = api.login("a@b.cd", "x");
    ASSERT_TRUE(r) << i << ": " << r.http.error.message();
  }
  EXPECT_EQ(server.connections(), 4);
}

TEST(RestClient, ConnectionRefusedIsUnreachable) {
  std::uint16_t port = 0;
  {
    test::net::io_context ioc;
    test::tcp::acceptor a(ioc, {test::net::ip::make_address("127.0.0.1"), 0});
    port = a.local_endpoint().port();
  }  // closed: nothing listens there now
  rest_client api(url{scheme::http, "127.0.0.1", port, ""});
  const auto r = api.me();
  EXPECT_FALSE(r);
  EXPECT_EQ(r.http.error, errc::unreachable);
  EXPECT_EQ(r.http.status, 0u);
  EXPECT_TRUE(is_unreachable(r.http.error));
}

TEST(RestClient, UnknownHostIsUnreachable) {
  rest_client api(url{scheme::http, "no-such-host.invalid", 80, ""}, rest_options{.timeout = std::chrono::seconds(5)});
  const auto r = api.me();
  EXPECT_TRUE(r.http.error == errc::unreachable || r.http.error == errc::timeout) << r.http.error.message();
}

TEST(RestClient, NoAnswerTimesOut) {
  fake_http_server server([](const request_type&) { return json_response(200, "{}"); },
                          fake_http_server::mode::never_answer);
  auto api = client_for(server, std::chrono::milliseconds(200));
  const auto start = std::chrono::steady_clock::now();
  const auto r = api.me();
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(r.http.error, errc::timeout);
  EXPECT_GE(took, std::chrono::milliseconds(190));
  EXPECT_LT(took, std::chrono::seconds(3));
}

TEST(RestClient, WrongShapeIsABadResponse) {
  fake_http_server server([](const request_type&) { return json_response(200, R"({"token":5})"); });
  auto api = client_for(server);
  const auto r = api.login("a@b.cd", "x");
  EXPECT_FALSE(r);
  EXPECT_EQ(r.http.error, errc::bad_response);
  EXPECT_EQ(r.http.status, 200u);
}

TEST(RestClient, NonJsonSuccessIsABadResponseForTypedCalls) {
  fake_http_server server([](const request_type&) {
    bhttp::response<bhttp::string_body> res{bhttp::status::ok, 11};
    res.body() = "<html>";
    return res;
  });
  auto api = client_for(server);
  EXPECT_EQ(api.list_rooms().http.error, errc::bad_response);
}

TEST(RestClient, HistoryQueryAndPage) {
  fake_http_server server([](const request_type&) {
    return json_response(
        200, R"({"messages":[)" + message_json(9) + "," + message_json(8) + R"(],"hasMore":true,"nextCursor":8})");
  });
  auto api = client_for(server);
  const auto r = api.history(3, 10, 2);
  ASSERT_TRUE(r) << r.http.error.message();
  ASSERT_EQ(r.value->messages.size(), 2u);
  EXPECT_EQ(r.value->messages[0].id, 9);
  EXPECT_EQ(r.value->messages[0].content, "hi");
  EXPECT_TRUE(r.value->has_more);
  EXPECT_EQ(r.value->next_cursor, 8);
  EXPECT_EQ(server.requests().at(0).target(), "/api/rooms/3/messages?size=2&cursor=10");
  ASSERT_TRUE(api.history(3, std::nullopt, 20));
  EXPECT_EQ(server.requests().at(1).target(), "/api/rooms/3/messages?size=20");
}

TEST(RestClient, EmailIsPercentEncoded) {
  fake_http_server server([](const request_type&) { return json_response(200, R"({"id":5,"nickname":"bo"})"); });
  auto api = client_for(server);
  const auto r = api.user_by_email("bo+x@example.com");
  ASSERT_TRUE(r);
  EXPECT_EQ(r.value->id, 5);
  EXPECT_EQ(server.requests().at(0).target(), "/api/users?email=bo%2Bx%40example.com");
}

TEST(RestClient, RouteShapes) {
  fake_http_server server([](const request_type& req) {
    const std::string target(req.target());
    if (target == "/api/rooms/direct") {
      return json_response(
          201,
          R"({"id":4,"type":"DIRECT","name":null,"createdBy":7,"members":[{"userId":7,"nickname":"ann"},{"userId":8,"nickname":"bo"}]})");
    }
    if (target == "/api/rooms/group" || target == "/api/rooms/4/members") {
      return json_response(target == "/api/rooms/group" ? 201 : 200,
                           R"({"id":5,"type":"GROUP","name":"ops","createdBy":7,"members":[]})");
    }
    if (target == "/api/rooms") {
      return json_response(
          200, R"([{"id":4,"type":"DIRECT","name":null,"memberCount":2,"unreadCount":1,"lastMessage":)" +
                   message_json(1) +
                   R"(},{"id":5,"type":"GROUP","name":"ops","memberCount":3,"unreadCount":0,"lastMessage":null}])");
    }
    if (target == "/api/rooms/4/unread") return json_response(200, R"({"unreadCount":3,"lastReadMessageId":11})");
    if (target == "/api/rooms/4/members/online") return json_response(200, "[7,8]");
    if (target == "/api/rooms/4/reads") {
      return json_response(200, R"([{"userId":7,"lastReadMessageId":0},{"userId":8,"lastReadMessageId":11}])");
    }
    if (target == "/api/rooms/4/read") return json_response(202, R"({"roomId":4,"lastReadMessageId":12})");
    bhttp::response<bhttp::string_body> res{bhttp::status::no_content, 11};
    return res;
  });
  auto api = client_for(server);
  const auto direct = api.create_direct(8);
  ASSERT_TRUE(direct);
  EXPECT_TRUE(direct.value->created);
  EXPECT_FALSE(direct.value->name.has_value());
  ASSERT_EQ(direct.value->members.size(), 2u);
  EXPECT_EQ(direct.value->members[1].nickname, "bo");

  const std::int64_t ids[] = {8, 9};
  const auto group = api.create_group("ops", ids);
  ASSERT_TRUE(group);
  EXPECT_EQ(group.value->name, "ops");
  EXPECT_EQ(nlohmann::json::parse(server.requests().back().body()),
            (nlohmann::json{{"name", "ops"}, {"memberIds", {8, 9}}}));

  const auto rooms = api.list_rooms();
  ASSERT_TRUE(rooms);
  ASSERT_EQ(rooms.value->size(), 2u);
  EXPECT_TRUE((*rooms.value)[0].last_message.has_value());
  EXPECT_EQ((*rooms.value)[0].unread_count, 1);
  EXPECT_FALSE((*rooms.value)[1].last_message.has_value());

  ASSERT_TRUE(api.add_members(4, ids));
  EXPECT_EQ(nlohmann::json::parse(server.requests().back().body()), (nlohmann::json{{"userIds", {8, 9}}}));

  const auto unread = api.unread(4);
  ASSERT_TRUE(unread);
  EXPECT_EQ(unread.value->unread_count, 3);
  EXPECT_EQ(unread.value->last_read_message_id, 11);

  const auto online = api.online_members(4);
  ASSERT_TRUE(online);
  EXPECT_EQ(*online.value, (std::vector<std::int64_t>{7, 8}));

  const auto reads = api.reads(4);
  ASSERT_TRUE(reads);
  EXPECT_EQ(*reads.value, (std::vector<proto::member_read>{{7, 0}, {8, 11}}));

  EXPECT_EQ(api.mark_read(4, 12).status, 202u);
  EXPECT_EQ(nlohmann::json::parse(server.requests().back().body()), (nlohmann::json{{"lastReadMessageId", 12}}));

  const auto left = api.leave(4);
  EXPECT_TRUE(left.ok());
  EXPECT_EQ(left.status, 204u);
  EXPECT_EQ(server.requests().back().method(), bhttp::verb::delete_);
  EXPECT_EQ(server.requests().back().target(), "/api/rooms/4/members/me");
}

TEST(RestClient, BasePathPrefixesTargets) {
  fake_http_server server([](const request_type&) { return json_response(200, "[]"); });
  auto base = server.address();
  base.path = "/chat";
  rest_client api(base);
  ASSERT_TRUE(api.list_rooms());
  EXPECT_EQ(server.requests().at(0).target(), "/chat/api/rooms");
}

// The client reads answers with chat::proto's parsers (the types chatd encodes).
TEST(RestParsers, RoomWithoutMembersArrayIsStillARoom) {
  proto::room room;
  EXPECT_FALSE(proto::parse_room(R"({"id":1,"type":"GROUP","name":"x"})", room));
  EXPECT_TRUE(proto::parse_room(R"({"id":"1","type":"GROUP"})", room));
  EXPECT_TRUE(proto::parse_room(R"({"id":1,"type":"GROUP","name":3})", room));
  EXPECT_TRUE(proto::parse_room("[]", room));
}

TEST(RestParsers, MessageIsValidated) {
  proto::chat_message m;
  EXPECT_FALSE(proto::parse_chat_message(message_json(5), m));
  EXPECT_EQ(m.id, 5);
  EXPECT_TRUE(proto::parse_chat_message(R"({"id":5,"content":"x"})", m));
}

TEST(RestClient, ChatdsOwnEncodingParsesBack) {
  proto::room room{4, proto::room_type::group, "ops", 7, 1763726400123, {{7, "ann"}}};
  fake_http_server server([&](const request_type&) { return json_response(201, proto::to_json(room)); });
  auto api = client_for(server);
  const auto r = api.create_group("ops", {});
  ASSERT_TRUE(r) << r.http.error.message();
  EXPECT_EQ(static_cast<const proto::room&>(*r.value), room);
  EXPECT_TRUE(r.value->created);
}

TEST(RestClient, InvalidAnswersAreBadResponses) {
  // Each answer breaks one rule of its type: a wrong type, a missing member, invalid UTF-8.
  fake_http_server server([](const request_type& req) {
    const std::string target(req.target());
    if (target == "/api/rooms") return json_response(200, R"([{"id":4,"type":"DIRECT","name":null}])");
    if (target == "/api/rooms/4/unread") return json_response(200, R"({"unreadCount":"3","lastReadMessageId":11})");
    if (target == "/api/rooms/4/members/online") return json_response(200, "[7,-8]");
    if (target == "/api/rooms/4/reads") return json_response(200, R"([{"userId":7}])");
    if (target == "/api/rooms/4") return json_response(200, "{\"id\":4,\"type\":\"GROUP\",\"name\":\"\xFF\"}");
    return json_response(200, R"({"messages":[],"hasMore":1})");
  });
  auto api = client_for(server);
  const auto rooms = api.list_rooms();
  EXPECT_FALSE(rooms);
  EXPECT_EQ(rooms.http.error, errc::bad_response);
  EXPECT_EQ(rooms.http.status, 200u);
  EXPECT_EQ(api.unread(4).http.error, errc::bad_response);
  EXPECT_EQ(api.online_members(4).http.error, errc::bad_response);
  EXPECT_EQ(api.reads(4).http.error, errc::bad_response);
  EXPECT_EQ(api.room(4).http.error, errc::bad_response);
  EXPECT_EQ(api.history(4, std::nullopt).http.error, errc::bad_response);
}

TEST(RestClient, ErrorBodyOfAnotherShapeGetsTheReasonPhrase) {
  fake_http_server server([](const request_type&) { return json_response(409, R"({"error":{"code":7}})"); });
  auto api = client_for(server);
  const auto r = api.me();
  EXPECT_EQ(r.http.status, 409u);
  EXPECT_EQ(r.http.api.code, "http_409");
  EXPECT_EQ(r.http.api.message, "Conflict");
}

}  // namespace
}  // namespace chat::client
