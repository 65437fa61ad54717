#include "fakes.hpp"

#include <chat/client/errc.hpp>
#include <chat/client/stomp_client.hpp>

#include <gtest/gtest.h>

namespace chat::client {
namespace {

using test::fake_stomp_server;
using test::peer;
using test::run_until;
namespace net = test::net;
using namespace std::chrono_literals;

// What the client under test reported through its callbacks.
struct recorder {
  bool connected = false;
  std::vector<stomp::frame> messages;
  std::vector<std::string> receipts;
  std::vector<stomp::frame> errors;
  std::optional<std::error_code> closed;

  stomp_handlers handlers() {
    stomp_handlers h;
    h.on_connected = [this](const stomp::frame&) { connected = true; };
    h.on_message = [this](stomp::frame& f) { messages.push_back(std::move(f)); };
    h.on_receipt = [this](std::string_view id, const stomp::frame&) { receipts.emplace_back(id); };
    h.on_error = [this](const stomp::frame& f) { errors.push_back(f); };
    h.on_closed = [this](std::error_code ec) {
      EXPECT_FALSE(closed.has_value()) << "on_closed called twice";
      closed = ec;
    };
    return h;
  }
};

class StompClient : public ::testing::TestWithParam<bool> {
 protected:
  bool websocket() const { return GetParam(); }

  stomp_options options_for(const fake_stomp_server& server) {
    stomp_options o;
    o.server = server.address();
    o.token = "tok.en";
    o.heart_beat = {0, 0};
    return o;
  }

  net::io_context ioc;
  recorder rec;
};

INSTANTIATE_TEST_SUITE_P(Transports, StompClient, ::testing::Values(false, true),
                         [](const auto& info) { return info.param ? "websocket" : "tcp"; });

using test::header_of;

TEST_P(StompClient, FullSessionRoundTrip) {
  fake_stomp_server server(ioc, websocket());
  std::vector<stomp::frame> seen;
  server.serve([&](peer& p) -> net::awaitable<void> {
    seen.push_back(co_await p.read_frame());  // CONNECT
    co_await p.connected();
    seen.push_back(co_await p.read_frame());  // SUBSCRIBE
    co_await p.receipt(header_of(seen.back(), "receipt"));
    co_await p.write_frame(test::frame_of(stomp::command::message, R"({"content":"hello"})", "destination",
                                          "/topic/room.7", "subscription", "s0", "message-id", "1"));
    seen.push_back(co_await p.read_frame());  // SEND
    co_await p.receipt(header_of(seen.back(), "receipt"));
    seen.push_back(co_await p.read_frame());  // DISCONNECT
    co_await p.receipt(header_of(seen.back(), "receipt"));
    EXPECT_TRUE(co_await p.read_until_closed());
  });

  auto options = options_for(server);
  options.virtual_host = "chat.local";
  options.heart_beat = {0, 0};
  options.connect_headers.push_back({"x-extra", "1"});
  auto client = stomp_client::create(ioc.get_executor(), options, rec.handlers());
  EXPECT_EQ(client->current_state(), stomp_client::state::idle);
  EXPECT_EQ(client->send("/x", "y"), errc::not_connected);
  client->connect();
  ASSERT_TRUE(run_until(ioc, [&] { return rec.connected || rec.closed; }));
  ASSERT_TRUE(rec.connected) << rec.closed->message();
  EXPECT_EQ(client->current_state(), stomp_client::state::connected);
  EXPECT_EQ(client->version(), stomp::version::v1_2);

  ASSERT_FALSE(client->subscribe("/topic/room.7", "s0", {}, "sub-receipt"));
  ASSERT_TRUE(run_until(ioc, [&] { return !rec.messages.empty(); }));
  EXPECT_EQ(rec.receipts, std::vector<std::string>{"sub-receipt"});
  EXPECT_EQ(rec.messages[0].body, R"({"content":"hello"})");
  EXPECT_EQ(header_of(rec.messages[0], "subscription"), "s0");

  const header_view extra[] = {{"content-type", "application/json"}};
  ASSERT_FALSE(client->send("/app/chat.send", R"({"roomId":7,"content":"x"})", extra, "send-1"));
  ASSERT_TRUE(run_until(ioc, [&] { return rec.receipts.size() == 2; }));
  EXPECT_EQ(rec.receipts[1], "send-1");

  ASSERT_FALSE(client->disconnect("bye"));
  EXPECT_EQ(client->current_state(), stomp_client::state::disconnecting);
  ASSERT_TRUE(run_until(ioc, [&] { return rec.closed.has_value() && server.done(); }));
  EXPECT_FALSE(*rec.closed) << rec.closed->message();
  EXPECT_EQ(server.error(), "");
  EXPECT_EQ(client->current_state(), stomp_client::state::closed);

  ASSERT_EQ(seen.size(), 4u);
  const auto& connect = seen[0];
  EXPECT_EQ(connect.cmd, stomp::command::connect);
  EXPECT_EQ(header_of(connect, "accept-version"), "1.2");
  EXPECT_EQ(header_of(connect, "host"), "chat.local");
  EXPECT_EQ(header_of(connect, "heart-beat"), "0,0");
  EXPECT_EQ(header_of(connect, "Authorization"), "Bearer tok.en");
  EXPECT_EQ(header_of(connect, "x-extra"), "1");
  EXPECT_EQ(header_of(connect, "login"), "<absent>");

  const auto& sub = seen[1];
  EXPECT_EQ(sub.cmd, stomp::command::subscribe);
  EXPECT_EQ(header_of(sub, "destination"), "/topic/room.7");
  EXPECT_EQ(header_of(sub, "id"), "s0");
  EXPECT_EQ(header_of(sub, "ack"), "auto");

  const auto& send = seen[2];
  EXPECT_EQ(send.cmd, stomp::command::send);
  EXPECT_EQ(header_of(send, "destination"), "/app/chat.send");
  EXPECT_EQ(header_of(send, "content-type"), "application/json");
  EXPECT_EQ(header_of(send, "content-length"), std::to_string(send.body.size()));
  EXPECT_EQ(send.body, R"({"roomId":7,"content":"x"})");

  EXPECT_EQ(seen[3].cmd, stomp::command::disconnect);
  EXPECT_EQ(header_of(seen[3], "receipt"), "bye");
  if (websocket()) {
    EXPECT_NE(server.current()->subprotocol_offered.find("v12.stomp"), std::string::npos);
  }
}

TEST_P(StompClient, LoginAndPasscodeHeaders) {
  fake_stomp_server server(ioc, websocket());
  stomp::frame connect;
  server.serve([&](peer& p) -> net::awaitable<void> {
    connect = co_await p.read_frame();
    co_await p.connected();
    co_await p.read_until_closed();
  });
  auto options = options_for(server);
  options.token.clear();
  options.login = "guest";
  options.passcode = "se:cret";
  options.accept_version = "1.0,1.1,1.2";
  auto client = stomp_client::create(ioc.get_executor(), options, rec.handlers());
  client->connect();
  ASSERT_TRUE(run_until(ioc, [&] { return rec.connected; }));
  EXPECT_EQ(header_of(connect, "login"), "guest");
  EXPECT_EQ(header_of(connect, "passcode"), "se:cret");  // CONNECT headers are never escaped
  EXPECT_EQ(header_of(connect, "Authorization"), "<absent>");
  EXPECT_EQ(header_of(connect, "accept-version"), "1.0,1.1,1.2");
  client->close();
  ASSERT_TRUE(run_until(ioc, [&] { return server.done(); }));
  EXPECT_EQ(*rec.closed, errc::aborted);
}

TEST_P(StompClient, FramesSplitIntoSingleOctetsAreReassembled) {
  fake_stomp_server server(ioc, websocket());
  server.serve([&](peer& p) -> net::awaitable<void> {
    co_await p.read_frame();
    const auto connected = test::frame_of(stomp::command::connected, "", "version", "1.2", "heart-beat", "0,0");
    co_await p.write_bytewise(stomp::encode(connected, {.escape = false}));
    const auto message =
        test::frame_of(stomp::command::message, std::string_view("x\0y", 3), "destination", "/a", "x-hdr", "a:b\nc");
    co_await p.write_bytewise(stomp::encode(message) + "\n");
    co_await p.read_until_closed();
  });
  auto client = stomp_client::create(ioc.get_executor(), options_for(server), rec.handlers());
  client->connect();
  ASSERT_TRUE(run_until(ioc, [&] { return !rec.messages.empty() || rec.closed; }));
  ASSERT_EQ(rec.messages.size(), 1u);
  EXPECT_EQ(rec.messages[0].body, std::string("x\0y", 3));
  EXPECT_EQ(header_of(rec.messages[0], "x-hdr"), "a:b\nc");
  client->close();
  ASSERT_TRUE(run_until(ioc, [&] { return server.done(); }));
}

TEST_P(StompClient, HeadersAreEscapedInStomp12) {
  fake_stomp_server server(ioc, websocket());
  stomp::frame sub;
  server.serve([&](peer& p) -> net::awaitable<void> {
    co_await p.read_frame();
    co_await p.connected();
    sub = co_await p.read_frame();
    co_await p.read_until_closed();
  });
  auto client = stomp_client::create(ioc.get_executor(), options_for(server), rec.handlers());
  client->connect();
  ASSERT_TRUE(run_until(ioc, [&] { return rec.connected; }));
  const header_view extra[] = {{"x:y", "a\nb\\c"}};
  ASSERT_FALSE(client->subscribe("/topic/a:b", "s:1", extra));
  ASSERT_TRUE(run_until(ioc, [&] { return sub.cmd == stomp::command::subscribe; }));
  EXPECT_EQ(header_of(sub, "destination"), "/topic/a:b");  // decoded back by the peer's 1.2 decoder
  EXPECT_EQ(header_of(sub, "id"), "s:1");
  EXPECT_EQ(header_of(sub, "x:y"), "a\nb\\c");
  client->close();
  ASSERT_TRUE(run_until(ioc, [&] { return server.done(); }));
}

TEST_P(StompClient, Stomp10ServerGetsLiteralHeaders) {
  fake_stomp_server server(ioc, websocket());
  std::string raw_destination;
  server.serve([&](peer& p) -> net::awaitable<void> {
    co_await p.read_frame();
    co_await p.connected("0,0", "");  // a 1.0 server sends no version header
    p.set_escaping(false);            // see the header bytes as written
    raw_destination = header_of(co_await p.read_frame(), "destination");
    co_await p.read_until_closed();
  });
  auto client = stomp_client::create(ioc.get_executor(), options_for(server), rec.handlers());
  client->connect();
  ASSERT_TRUE(run_until(ioc, [&] { return rec.connected; }));
  EXPECT_EQ(client->version(), stomp::version::v1_0);
  ASSERT_FALSE(client->subscribe("/queue/a:b", "0"));
  ASSERT_TRUE(run_until(ioc, [&] { return !raw_destination.empty() || server.done(); }));
  EXPECT_EQ(raw_destination, "/queue/a:b");  // a 1.2 client would have written /queue/a\cb
  client->close();
  ASSERT_TRUE(run_until(ioc, [&] { return server.done(); }));
}

TEST_P(StompClient, Stomp12HeadersAreEscapedOnTheWire) {
  fake_stomp_server server(ioc, websocket());
  std::string raw_destination;
  server.serve([&](peer& p) -> net::awaitable<void> {
    co_await p.read_frame();
    co_await p.connected();
    p.set_escaping(false);
    raw_destination = header_of(co_await p.read_frame(), "destination");
    co_await p.read_until_closed();
  });
  auto client = stomp_client::create(ioc.get_executor(), options_for(server), rec.handlers());
  client->connect();
  ASSERT_TRUE(run_until(ioc, [&] { return rec.connected; }));
  ASSERT_FALSE(client->subscribe("/queue/a:b", "0"));
  ASSERT_TRUE(run_until(ioc, [&] { return !raw_destination.empty() || server.done(); }));
  EXPECT_EQ(raw_destination, "/queue/a\\cb");
  client->close();
  ASSERT_TRUE(run_until(ioc, [&] { return server.done(); }));
}

TEST_P(StompClient, ErrorFrameEndsTheSession) {
  fake_stomp_server server(ioc, websocket());
  server.serve([&](peer& p) -> net::awaitable<void> {
    co_await p.read_frame();
    co_await p.write_frame(
        test::frame_of(stomp::command::error, "a valid token is required", "message", "unauthorized"));
    co_await p.read_until_closed();
  });
  auto client = stomp_client::create(ioc.get_executor(), options_for(server), rec.handlers());
  client->connect();
  ASSERT_TRUE(run_until(ioc, [&] { return rec.closed.has_value(); }));
  EXPECT_FALSE(rec.connected);
  EXPECT_EQ(*rec.closed, errc::server_error);
  ASSERT_EQ(rec.errors.size(), 1u);
  EXPECT_EQ(header_of(rec.errors[0], "message"), "unauthorized");
  EXPECT_EQ(rec.errors[0].body, "a valid token is required");
  ASSERT_TRUE(run_until(ioc, [&] { return server.done(); }));
}

TEST_P(StompClient, ServerHangingUpIsConnectionLost) {
  fake_stomp_server server(ioc, websocket());
  server.serve([&](peer& p) -> net::awaitable<void> {
    co_await p.read_frame();
    co_await p.connected();
    p.close();
    co_return;
  });
  auto client = stomp_client::create(ioc.get_executor(), options_for(server), rec.handlers());
  client->connect();
  ASSERT_TRUE(run_until(ioc, [&] { return rec.closed.has_value(); }));
  EXPECT_TRUE(rec.connected);
  EXPECT_EQ(*rec.closed, errc::connection_lost) << rec.closed->message();
}

TEST_P(StompClient, MalformedInputClosesWithTheDecoderError) {
  fake_stomp_server server(ioc, websocket());
  server.serve([&](peer& p) -> net::awaitable<void> {
    co_await p.read_frame();
    co_await p.write(std::string("BOGUS\n\n\0", 8));
    co_await p.read_until_closed();
  });
  auto client = stomp_client::create(ioc.get_executor(), options_for(server), rec.handlers());
  client->connect();
  ASSERT_TRUE(run_until(ioc, [&] { return rec.closed.has_value(); }));
  EXPECT_EQ(*rec.closed, stomp::errc::unknown_command);
  ASSERT_TRUE(run_until(ioc, [&] { return server.done(); }));
}

TEST_P(StompClient, NoConnectedWithinTheLimitTimesOut) {
  fake_stomp_server server(ioc, websocket());
  server.serve([&](peer& p) -> net::awaitable<void> {
    co_await p.read_frame();
    co_await p.read_until_closed();  // never answers
  });
  auto options = options_for(server);
  options.connect_timeout = 150ms;
  auto client = stomp_client::create(ioc.get_executor(), options, rec.handlers());
  const auto start = std::chrono::steady_clock::now();
  client->connect();
  ASSERT_TRUE(run_until(ioc, [&] { return rec.closed.has_value(); }));
  EXPECT_EQ(*rec.closed, errc::timeout);
  EXPECT_GE(std::chrono::steady_clock::now() - start, 140ms);
  ASSERT_TRUE(run_until(ioc, [&] { return server.done(); }));
}

TEST_P(StompClient, SendsHeartBeatsOnTheAgreedSchedule) {
  fake_stomp_server server(ioc, websocket());
  server.serve([&](peer& p) -> net::awaitable<void> {
    co_await p.read_frame();
    co_await p.connected("0,40");  // the server wants a heart-beat every 40 ms
    co_await p.read_until_closed();
  });
  auto options = options_for(server);
  options.heart_beat = {20, 0};  // the client can send every 20 ms
  auto client = stomp_client::create(ioc.get_executor(), options, rec.handlers());
  client->connect();
  ASSERT_TRUE(run_until(ioc, [&] { return rec.connected; }));
  EXPECT_EQ(client->heart_beats(), (stomp::heart_beat_plan{40, 0}));
  const auto start = std::chrono::steady_clock::now();
  ASSERT_TRUE(run_until(ioc, [&] { return server.current()->heartbeats >= 5; }));
  // Five beats at 40 ms cannot take less than about 160 ms (the first may come at once).
  EXPECT_GE(std::chrono::steady_clock::now() - start, 150ms);
  EXPECT_FALSE(rec.closed.has_value());
  client->close();
  ASSERT_TRUE(run_until(ioc, [&] { return server.done(); }));
}

TEST_P(StompClient, SilentServerIsDetected) {
  fake_stomp_server server(ioc, websocket());
  server.serve([&](peer& p) -> net::awaitable<void> {
    co_await p.read_frame();
    co_await p.connected("30,0");  // promises a heart-beat every 30 ms, then sends nothing
    co_await p.read_until_closed();
  });
  auto options = options_for(server);
  options.heart_beat = {0, 30};
  auto client = stomp_client::create(ioc.get_executor(), options, rec.handlers());
  client->connect();
  ASSERT_TRUE(run_until(ioc, [&] { return rec.connected; }));
  const auto start = std::chrono::steady_clock::now();
  ASSERT_TRUE(run_until(ioc, [&] { return rec.closed.has_value(); }));
  EXPECT_EQ(*rec.closed, errc::heartbeat_timeout);
  EXPECT_GE(std::chrono::steady_clock::now() - start, 55ms);  // more than twice the interval
  ASSERT_TRUE(run_until(ioc, [&] { return server.done(); }));
}

TEST_P(StompClient, ServerHeartBeatsKeepTheSessionAlive) {
  fake_stomp_server server(ioc, websocket());
  bool beating_done = false;
  server.serve([&](peer& p) -> net::awaitable<void> {
    co_await p.read_frame();
    co_await p.connected("100,0");
    // 15 beats 20 ms apart: 300 ms in all, past the 200 ms of silence that ends a session,
    // with a margin of 180 ms per beat for a loaded machine.
    for (int i = 0; i < 15; ++i) {
      co_await p.pause(20ms);
      co_await p.write("\n");
    }
    beating_done = true;
    co_await p.read_until_closed();
  });
  auto options = options_for(server);
  options.heart_beat = {0, 100};
  auto client = stomp_client::create(ioc.get_executor(), options, rec.handlers());
  client->connect();
  const auto start = std::chrono::steady_clock::now();
  ASSERT_TRUE(run_until(ioc, [&] { return beating_done || rec.closed.has_value(); }));
  EXPECT_TRUE(beating_done);
  EXPECT_FALSE(rec.closed.has_value()) << rec.closed->message();
  EXPECT_GE(std::chrono::steady_clock::now() - start, 250ms);
  client->close();
  ASSERT_TRUE(run_until(ioc, [&] { return server.done(); }));
}

TEST_P(StompClient, OutboundQueueIsBounded) {
  fake_stomp_server server(ioc, websocket());
  std::vector<stomp::frame> got;
  server.serve([&](peer& p) -> net::awaitable<void> {
    co_await p.read_frame();
    co_await p.connected();
    for (;;) got.push_back(co_await p.read_frame());
  });
  auto options = options_for(server);
  options.max_outbound_bytes = 512;
  auto client = stomp_client::create(ioc.get_executor(), options, rec.handlers());
  client->connect();
  ASSERT_TRUE(run_until(ioc, [&] { return rec.connected; }));
  EXPECT_EQ(client->send("/a", std::string(600, 'x')), errc::queue_full);
  EXPECT_EQ(client->outbound_bytes(), 0u);  // the refused frame left nothing behind
  // Without running the io_context nothing is written: the queue fills up and refuses.
  int accepted = 0;
  while (!client->send("/a", std::string(100, 'y'))) ++accepted;
  EXPECT_GE(accepted, 3);
  EXPECT_LE(client->outbound_bytes(), 512u);
  // Drained once the writes completed (the peer may have read them a moment earlier).
  ASSERT_TRUE(run_until(ioc, [&] { return client->outbound_bytes() == 0; }));
  ASSERT_TRUE(run_until(ioc, [&] { return static_cast<int>(got.size()) == accepted; }));
  EXPECT_FALSE(client->send("/a", "after drain"));
  ASSERT_TRUE(run_until(ioc, [&] { return static_cast<int>(got.size()) == accepted + 1; }));
  EXPECT_EQ(got.back().body, "after drain");
  client->close();
}

TEST_P(StompClient, DisconnectWithoutReceiptTimesOut) {
  fake_stomp_server server(ioc, websocket());
  server.serve([&](peer& p) -> net::awaitable<void> {
    co_await p.read_frame();
    co_await p.connected();
    co_await p.read_frame();  // DISCONNECT, never answered
    co_await p.read_until_closed();
  });
  auto options = options_for(server);
  options.disconnect_timeout = 100ms;
  auto client = stomp_client::create(ioc.get_executor(), options, rec.handlers());
  client->connect();
  ASSERT_TRUE(run_until(ioc, [&] { return rec.connected; }));
  ASSERT_FALSE(client->disconnect("d"));
  EXPECT_EQ(client->disconnect("again"), errc::not_connected);
  ASSERT_TRUE(run_until(ioc, [&] { return rec.closed.has_value(); }));
  EXPECT_EQ(*rec.closed, errc::timeout);
  ASSERT_TRUE(run_until(ioc, [&] { return server.done(); }));
}

TEST(StompClientConnect, RefusedIsUnreachable) {
  net::io_context ioc;
  std::uint16_t port = 0;
  {
    test::tcp::acceptor a(ioc, {net::ip::make_address("127.0.0.1"), 0});
    port = a.local_endpoint().port();
  }
  recorder rec;
  stomp_options options;
  options.server = url{scheme::tcp, "127.0.0.1", port, ""};
  auto client = stomp_client::create(ioc.get_executor(), options, rec.handlers());
  client->connect();
  ASSERT_TRUE(run_until(ioc, [&] { return rec.closed.has_value(); }));
  EXPECT_EQ(*rec.closed, errc::unreachable);
  EXPECT_TRUE(is_unreachable(*rec.closed));
}

TEST(StompClientConnect, ResolvesHostNames) {
  net::io_context ioc;
  fake_stomp_server server(ioc, false);
  server.serve([&](peer& p) -> net::awaitable<void> {
    co_await p.read_frame();
    co_await p.connected();
    co_await p.read_until_closed();
  });
  recorder rec;
  stomp_options options;
  options.server = url{scheme::tcp, "localhost", server.port(), ""};
  auto client = stomp_client::create(ioc.get_executor(), options, rec.handlers());
  client->connect();
  ASSERT_TRUE(run_until(ioc, [&] { return rec.connected || rec.closed; }));
  // localhost may resolve to ::1 first; the client tries every address.
  EXPECT_TRUE(rec.connected) << rec.closed->message();
  client->close();
}

TEST(StompClientConnect, HttpUrlIsRefused) {
  net::io_context ioc;
  stomp_options options;
  options.server = url{scheme::http, "127.0.0.1", 1, ""};
  EXPECT_THROW(stomp_client::create(ioc.get_executor(), options, {}), std::invalid_argument);
}

TEST(StompClientConnect, WebSocketUpgradeRefusedIsAHandshakeFailure) {
  net::io_context ioc;
  test::tcp::acceptor acceptor(ioc, {net::ip::make_address("127.0.0.1"), 0});
  bool answered = false;
  net::co_spawn(
      ioc,
      [&]() -> net::awaitable<void> {
        auto socket = co_await acceptor.async_accept(net::use_awaitable);
        test::beast::flat_buffer buffer;
        test::bhttp::request<test::bhttp::string_body> req;
        co_await test::bhttp::async_read(socket, buffer, req, net::use_awaitable);
        test::bhttp::response<test::bhttp::string_body> res{test::bhttp::status::not_found, 11};
        res.body() = "no";
        res.prepare_payload();
        co_await test::bhttp::async_write(socket, res, net::use_awaitable);
        answered = true;
      },
      [](std::exception_ptr) {});
  recorder rec;
  stomp_options options;
  options.server = url{scheme::ws, "127.0.0.1", acceptor.local_endpoint().port(), "/ws"};
  auto client = stomp_client::create(ioc.get_executor(), options, rec.handlers());
  client->connect();
  ASSERT_TRUE(run_until(ioc, [&] { return rec.closed.has_value(); }));
  EXPECT_TRUE(answered);
  EXPECT_FALSE(rec.connected);
  EXPECT_TRUE(*rec.closed);
  EXPECT_FALSE(is_unreachable(*rec.closed)) << rec.closed->message();
}

// Callbacks run on the session's strand even when several threads run the io_context.
TEST(StompClientThreads, CallbacksAreSerialisedOnTheStrand) {
  net::io_context ioc;
  fake_stomp_server server(ioc, false);
  constexpr int count = 200;
  server.serve([&](peer& p) -> net::awaitable<void> {
    co_await p.read_frame();
    co_await p.connected();
    for (int i = 0; i < count; ++i) {
      co_await p.write_frame(test::frame_of(stomp::command::message, std::to_string(i), "destination", "/a"));
    }
    co_await p.read_until_closed();
  });
  std::atomic<int> inside{0};
  std::atomic<int> overlaps{0};
  std::atomic<int> received{0};
  std::atomic<bool> closed{false};
  std::vector<int> order;
  stomp_handlers h;
  h.on_message = [&](stomp::frame& f) {
    if (inside.fetch_add(1) != 0) ++overlaps;
    order.push_back(std::stoi(f.body));
    ++received;
    inside.fetch_sub(1);
  };
  h.on_closed = [&](std::error_code) { closed = true; };
  stomp_options options;
  options.server = server.address();
  auto client = stomp_client::create(ioc.get_executor(), options, h);
  client->connect();
  auto guard = net::make_work_guard(ioc);
  std::thread a([&] { ioc.run(); });
  std::thread b([&] { ioc.run(); });
  ASSERT_TRUE(test::eventually([&] { return received == count; }));
  net::dispatch(client->executor(), [client] { client->close(); });
  ASSERT_TRUE(test::eventually([&] { return closed.load(); }));
  guard.reset();
  ioc.stop();
  a.join();
  b.join();
  EXPECT_EQ(overlaps, 0);
  for (int i = 0; i < count; ++i) ASSERT_EQ(order[i], i);
}

}  // namespace
}  // namespace chat::client
