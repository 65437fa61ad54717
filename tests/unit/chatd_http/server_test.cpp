// The server reports every answered request once (route pattern, status, bytes) over a
// real loopback connection; an upgrade counts when its handler says how it answered.
#include "http/server.hpp"

#include <chat_test/eventually.hpp>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <gtest/gtest.h>

#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
using tcp = net::ip::tcp;
using namespace chat::http;
using chat::test::eventually;

struct recorded {
  std::string method;
  std::string route;
  unsigned status;
  std::size_t bytes;
};

struct loopback {
  net::io_context ioc;
  router routes;
  std::shared_ptr<server> srv;
  std::mutex mutex;
  std::vector<recorded> seen;
  std::thread thread;

  explicit loopback(upgrade_handler on_upgrade = nullptr) {
    routes.add(verb::get, "/api/rooms/{id}", [](const request&, const path_params&, responder respond) {
      respond(json_response(status::ok, R"({"ok":true})"));
    });
    // Echo the body's size; the upload route allows 1 MiB, the other one the server's 64 KiB.
    auto size_of_body = [](const request& req, const path_params&, responder respond) {
      respond(json_response(status::ok, std::to_string(req.body().size())));
    };
    routes.add(verb::post, "/api/rooms/{id}", size_of_body);
    // The larger limit only for requests the route admits by their headers (a token).
    routes.add(verb::post, "/api/files", size_of_body, 1024 * 1024,
               [](const request& head) { return head[bhttp::field::authorization] == "Bearer ok"; });
    srv = std::make_shared<server>(ioc, tcp::endpoint(net::ip::make_address("127.0.0.1"), 0), routes, server_limits{},
                                   std::move(on_upgrade));
    srv->on_exchange([this](const exchange& x) {
      std::lock_guard lock(mutex);
      seen.push_back({std::string(bhttp::to_string(x.method)), std::string(x.route), x.status, x.bytes});
    });
    srv->start();
    thread = std::thread([this] { ioc.run(); });
  }
  ~loopback() {
    srv->stop();
    ioc.stop();
    thread.join();
  }
  std::vector<recorded> snapshot() {
    std::lock_guard lock(mutex);
    return seen;
  }

  // Sends one request and reads the response (or nothing when the server closes).
  response send(request req) {
    net::io_context client;
    tcp::socket sock(client);
    sock.connect(srv->local_endpoint());
    req.set(bhttp::field::host, "localhost");
    req.prepare_payload();
    bhttp::write(sock, req);
    beast::flat_buffer buf;
    response res;
    beast::error_code ec;
    bhttp::read(sock, buf, res, ec);
    return res;
  }
};

TEST(HttpServer, EachAnsweredRequestIsReportedOnceWithItsPattern) {
  loopback lb;
  const auto ok = lb.send(request{verb::get, "/api/rooms/42?secret=abc", 11});
  EXPECT_EQ(ok.result(), status::ok);
  const auto missing = lb.send(request{verb::get, "/api/rooms/42/nope", 11});
  EXPECT_EQ(missing.result(), status::not_found);
  ASSERT_TRUE(eventually([&] { return lb.snapshot().size() >= 2; }));
  const auto seen = lb.snapshot();
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0].method, "GET");
  EXPECT_EQ(seen[0].route, "/api/rooms/{id}");
  EXPECT_EQ(seen[0].status, 200u);
  EXPECT_GT(seen[0].bytes, ok.body().size());  // headers included
  EXPECT_EQ(seen[1].route, unmatched_route);
  EXPECT_EQ(seen[1].status, 404u);
}

TEST(HttpServer, ARequestRefusedBeforeRoutingIsUnmatched) {
  loopback lb;
  request big{verb::get, "/api/rooms/1", 11};
  big.body() = std::string(server_limits{}.max_body_bytes + 1, 'x');
  EXPECT_EQ(lb.send(std::move(big)).result(), status::payload_too_large);
  ASSERT_TRUE(eventually([&] { return lb.snapshot().size() == 1; }));
  EXPECT_EQ(lb.snapshot()[0].route, unmatched_route);
  EXPECT_EQ(lb.snapshot()[0].status, 413u);
}

TEST(HttpServer, ARouteMayAllowALargerBody) {
  loopback lb;
  const std::size_t small = server_limits{}.max_body_bytes;
  auto upload = [](std::size_t size, bool admitted) {
    request req{verb::post, "/api/files?name=x", 11};
    if (admitted) req.set(bhttp::field::authorization, "Bearer ok");
    req.body() = std::string(size, 'x');
    return req;
  };
  for (const std::size_t size : {std::size_t{1}, small, small + 1, std::size_t{1024 * 1024}}) {
    const auto res = lb.send(upload(size, true));
    EXPECT_EQ(res.result(), status::ok) << size;
    EXPECT_EQ(res.body(), std::to_string(size));
  }
  EXPECT_EQ(lb.send(upload(1024 * 1024 + 1, true)).result(), status::payload_too_large);
  // Not admitted by its headers: the server's limit.
  EXPECT_EQ(lb.send(upload(small, false)).result(), status::ok);
  EXPECT_EQ(lb.send(upload(small + 1, false)).result(), status::payload_too_large);
  // Other routes keep the server's limit; bodies within it arrive whole.
  request post{verb::post, "/api/rooms/1", 11};
  post.body() = std::string(small, 'y');
  const auto res = lb.send(post);
  EXPECT_EQ(res.result(), status::ok);
  EXPECT_EQ(res.body(), std::to_string(small));
  post.body() += 'y';
  EXPECT_EQ(lb.send(std::move(post)).result(), status::payload_too_large);
  request head{verb::post, "/api/files?x=1", 11};
  EXPECT_EQ(lb.routes.body_limit(head), 0u);
  head.set(bhttp::field::authorization, "Bearer ok");
  EXPECT_EQ(lb.routes.body_limit(head), 1024u * 1024u);
  EXPECT_EQ(lb.routes.body_limit(request{verb::post, "/api/rooms/1", 11}), 0u);
  EXPECT_EQ(lb.routes.body_limit(request{verb::get, "/api/files", 11}), 0u);
}

TEST(HttpServer, ExpectContinueGetsAnInterimAnswer) {
  loopback lb;
  net::io_context client;
  tcp::socket sock(client);
  sock.connect(lb.srv->local_endpoint());
  const std::string head =
      "POST /api/files HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ok\r\nContent-Length: 100000\r\nExpect: "
      "100-continue\r\n\r\n";
  net::write(sock, net::buffer(head));
  std::string interim(25, '\0');
  net::read(sock, net::buffer(interim));
  EXPECT_EQ(interim, "HTTP/1.1 100 Continue\r\n\r\n");
  net::write(sock, net::buffer(std::string(100000, 'z')));
  beast::flat_buffer buf;
  response res;
  bhttp::read(sock, buf, res);
  EXPECT_EQ(res.result(), status::ok);
  EXPECT_EQ(res.body(), "100000");
}

TEST(HttpServer, AnUpgradeCountsWhenItsHandlerAnswers) {
  // A stand-in upgrade handler that refuses with 503 the way the WebSocket layer does.
  loopback lb([](beast::tcp_stream&& stream, request&& req, upgrade_answered answered) {
    auto s = std::make_shared<beast::tcp_stream>(std::move(stream));
    auto res = std::make_shared<response>(error_response(status::service_unavailable, "shutting_down", "bye"));
    res->version(req.version());
    res->keep_alive(false);
    bhttp::async_write(
        *s, *res, [s, res, answered](beast::error_code, std::size_t n) { answered(status::service_unavailable, n); });
  });
  request up{verb::get, "/ws", 11};
  up.set(bhttp::field::connection, "Upgrade");
  up.set(bhttp::field::upgrade, "websocket");
  up.set(bhttp::field::sec_websocket_key, "dGhlIHNhbXBsZSBub25jZQ==");
  up.set(bhttp::field::sec_websocket_version, "13");
  EXPECT_EQ(lb.send(up).result(), status::service_unavailable);
  up.target("/elsewhere");
  EXPECT_EQ(lb.send(up).result(), status::service_unavailable);
  ASSERT_TRUE(eventually([&] { return lb.snapshot().size() == 2; }));
  EXPECT_EQ(lb.snapshot()[0].route, websocket_route);
  EXPECT_EQ(lb.snapshot()[0].status, 503u);
  EXPECT_GT(lb.snapshot()[0].bytes, 0u);
  EXPECT_EQ(lb.snapshot()[1].route, unmatched_route);
}

}  // namespace
