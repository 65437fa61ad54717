#include "fakes.hpp"

#include <chat/client/blocking_stomp.hpp>
#include <chat/client/errc.hpp>

#include <gtest/gtest.h>

namespace chat::client {
namespace {

using test::fake_stomp_server;
using test::peer;
namespace net = test::net;
using namespace std::chrono_literals;

auto in(std::chrono::milliseconds d) { return std::chrono::steady_clock::now() + d; }

using test::header_of;

stomp_options options_for(const fake_stomp_server& server) {
  stomp_options o;
  o.server = server.address();
  o.token = "t";
  o.heart_beat = {0, 0};
  return o;
}

TEST(BlockingStomp, ConnectSubscribeSendReceiveDisconnect) {
  test::server_thread thread;
  fake_stomp_server server(thread.context(), false);
  server.serve([&](peer& p) -> net::awaitable<void> {
    co_await p.read_frame();
    co_await p.connected();
    auto sub = co_await p.read_frame();
    co_await p.receipt(header_of(sub, "receipt"));
    auto send = co_await p.read_frame();
    const auto receipt =
        test::frame_of(stomp::command::receipt, "", "receipt-id", header_of(send, "receipt"), "x-id", "77");
    co_await p.write_frame(receipt);
    for (int i = 0; i < 3; ++i) {
      co_await p.write_frame(test::frame_of(stomp::command::message, "m" + std::to_string(i), "destination", "/a"));
    }
    auto disconnect = co_await p.read_frame();
    co_await p.receipt(header_of(disconnect, "receipt"));
    co_await p.read_until_closed();
  });

  blocking_stomp stomp(options_for(server));
  ASSERT_FALSE(stomp.connect(in(30s)));
  EXPECT_TRUE(stomp.connected());
  ASSERT_FALSE(stomp.subscribe("/a", "s0", {}, true, in(30s)));
  stomp::frame receipt;
  ASSERT_FALSE(stomp.send("/a", "hi", {}, true, in(30s), &receipt));
  EXPECT_EQ(header_of(receipt, "x-id"), "77");
  for (int i = 0; i < 3; ++i) {
    auto m = stomp.next_message(in(30s));
    ASSERT_TRUE(m.has_value()) << i;
    EXPECT_EQ(m->body, "m" + std::to_string(i));
  }
  EXPECT_FALSE(stomp.disconnect(in(30s)));
  ASSERT_TRUE(stomp.closed_reason().has_value());
  EXPECT_FALSE(*stomp.closed_reason());
  ASSERT_TRUE(test::eventually([&] { return server.done(); }));
  EXPECT_EQ(server.error(), "");
}

TEST(BlockingStomp, RefusedConnectReportsTheErrorFrame) {
  test::server_thread thread;
  fake_stomp_server server(thread.context(), true);
  server.serve([&](peer& p) -> net::awaitable<void> {
    co_await p.read_frame();
    co_await p.write_frame(test::frame_of(stomp::command::error, "", "message", "unauthorized"));
    co_await p.read_until_closed();
  });
  blocking_stomp stomp(options_for(server));
  EXPECT_EQ(stomp.connect(in(30s)), errc::server_error);
  ASSERT_TRUE(stomp.error_frame().has_value());
  EXPECT_EQ(header_of(*stomp.error_frame(), "message"), "unauthorized");
  EXPECT_EQ(stomp.last_wait(), blocking_stomp::wait_status::closed);
}

TEST(BlockingStomp, NextMessageTimesOut) {
  test::server_thread thread;
  fake_stomp_server server(thread.context(), false);
  server.serve([&](peer& p) -> net::awaitable<void> {
    co_await p.read_frame();
    co_await p.connected();
    co_await p.read_until_closed();
  });
  blocking_stomp stomp(options_for(server));
  ASSERT_FALSE(stomp.connect(in(30s)));
  const auto start = std::chrono::steady_clock::now();
  EXPECT_FALSE(stomp.next_message(in(100ms)).has_value());
  EXPECT_EQ(stomp.last_wait(), blocking_stomp::wait_status::timeout);
  EXPECT_GE(std::chrono::steady_clock::now() - start, 95ms);
}

TEST(BlockingStomp, InterruptStopsAWait) {
  test::server_thread thread;
  fake_stomp_server server(thread.context(), false);
  server.serve([&](peer& p) -> net::awaitable<void> {
    co_await p.read_frame();
    co_await p.connected();
    co_await p.read_until_closed();
  });
  blocking_stomp stomp(options_for(server));
  ASSERT_FALSE(stomp.connect(in(30s)));
  net::steady_timer timer(stomp.context());
  timer.expires_after(30ms);
  timer.async_wait([&](const boost::system::error_code&) { stomp.interrupt(); });
  EXPECT_FALSE(stomp.next_message(in(5s)).has_value());
  EXPECT_EQ(stomp.last_wait(), blocking_stomp::wait_status::interrupted);
}

TEST(BlockingStomp, ErrorWithReceiptIdFailsTheSend) {
  test::server_thread thread;
  fake_stomp_server server(thread.context(), false);
  server.serve([&](peer& p) -> net::awaitable<void> {
    co_await p.read_frame();
    co_await p.connected();
    auto send = co_await p.read_frame();
    co_await p.write_frame(
        test::frame_of(stomp::command::error, "", "message", "forbidden", "receipt-id", header_of(send, "receipt")));
    co_await p.read_until_closed();
  });
  blocking_stomp stomp(options_for(server));
  ASSERT_FALSE(stomp.connect(in(30s)));
  EXPECT_EQ(stomp.send("/topic/room.1", "x", {}, true, in(30s)), errc::server_error);
  EXPECT_EQ(header_of(*stomp.error_frame(), "message"), "forbidden");
}

// An ERROR with session-closes:false refuses one SEND (docs/stomp.md, "Receipts"): the send
// fails with errc::refused and the session goes on.
TEST(BlockingStomp, ARefusalOfOneSendKeepsTheSession) {
  test::server_thread thread;
  fake_stomp_server server(thread.context(), false);
  server.serve([&](peer& p) -> net::awaitable<void> {
    co_await p.read_frame();
    co_await p.connected();
    auto first = co_await p.read_frame();
    co_await p.write_frame(test::frame_of(stomp::command::error, "too many messages", "message", "rate limited",
                                          "receipt-id", header_of(first, "receipt"), "session-closes", "false"));
    auto second = co_await p.read_frame();
    co_await p.receipt(header_of(second, "receipt"));
    co_await p.read_until_closed();
  });
  blocking_stomp stomp(options_for(server));
  ASSERT_FALSE(stomp.connect(in(30s)));
  EXPECT_EQ(stomp.send("/topic/room.1", "x", {}, true, in(30s)), errc::refused);
  EXPECT_EQ(header_of(*stomp.error_frame(), "message"), "rate limited");
  EXPECT_TRUE(stomp.connected());
  EXPECT_FALSE(stomp.send("/topic/room.1", "y", {}, true, in(30s)));
}

TEST(BlockingStomp, ConnectToNothingIsUnreachable) {
  std::uint16_t port = 0;
  {
    net::io_context ioc;
    test::tcp::acceptor a(ioc, {net::ip::make_address("127.0.0.1"), 0});
    port = a.local_endpoint().port();
  }
  stomp_options o;
  o.server = url{scheme::ws, "127.0.0.1", port, "/ws"};
  blocking_stomp stomp(o);
  const auto ec = stomp.connect(in(30s));
  EXPECT_EQ(ec, errc::unreachable);
}

}  // namespace
}  // namespace chat::client
