#include <chat/client/errc.hpp>
#include "typed.hpp"
#include <chat/client/lifecycle.hpp>
#include <chat/client/rest_client.hpp>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>

#include <poll.h>

#include <cctype>
#include <optional>
#include <utility>

namespace chat::client {

using detail::typed;

namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using tcp = net::ip::tcp;
using clock_type = std::chrono::steady_clock;

namespace {

// Maps a failure of connect/write/read to the client's vocabulary.
std::error_code classify(const boost::system::error_code& ec) {
  if (ec == beast::error::timeout || ec == net::error::timed_out || ec == net::error::operation_aborted) {
    return errc::timeout;
  }
  if (ec == net::error::eof || ec == bhttp::error::end_of_stream || ec == bhttp::error::partial_message ||
      ec == net::error::connection_reset || ec == net::error::broken_pipe || ec == net::error::connection_aborted) {
    return errc::connection_lost;
  }
  if (ec.category() == bhttp::make_error_code(bhttp::error::end_of_stream).category()) {
    return errc::bad_response;  // the parser refused what the server sent
  }
  std::error_code converted = ec;
  if (is_unreachable(converted)) return errc::unreachable;
  return converted;
}

bool idempotent(http_method m) noexcept {
  switch (m) {
    case http_method::get:
    case http_method::put:
    case http_method::delete_: return true;
    case http_method::post:
    case http_method::patch: return false;
  }
  return false;
}

bhttp::verb to_verb(http_method m) noexcept {
  switch (m) {
    case http_method::get: return bhttp::verb::get;
    case http_method::post: return bhttp::verb::post;
    case http_method::put: return bhttp::verb::put;
    case http_method::delete_: return bhttp::verb::delete_;
    case http_method::patch: return bhttp::verb::patch;
  }
  return bhttp::verb::get;
}

// A kept-alive connection that the server has closed (or that holds unexpected bytes) reads
// as ready; only an idle, open one has nothing to read.
bool connection_idle(tcp::socket& socket) noexcept {
  pollfd p{};
  p.fd = socket.native_handle();
  p.events = POLLIN;
  return ::poll(&p, 1, 0) == 0;
}

void fill_api_error(response& r, std::string_view reason) {
  const auto error = proto::parse_api_error(r.body, r.api);
  if (!error) return;
  r.api.code = "http_" + std::to_string(r.status);
  // A JSON object of another shape says nothing a person could read: the reason phrase then.
  const bool json_object = error.code != proto::errc::invalid_json && error.code != proto::errc::not_an_object;
  std::string_view first_line = std::string_view(r.body).substr(0, r.body.find('\n'));
  if (first_line.size() > 200) first_line = first_line.substr(0, 200);
  r.api.message = first_line.empty() || json_object ? std::string(reason) : std::string(first_line);
}

result<room_info> typed_room(response r) {
  result<room_info> out;
  auto room = typed<proto::room>(std::move(r), proto::parse_room);
  out.http = std::move(room.http);
  if (room.value) out.value = room_info{std::move(*room.value), out.http.status == 201};
  return out;
}

std::string id_text(std::int64_t id) { return std::to_string(id); }

}  // namespace

// ---- the client -------------------------------------------------------------------------------

struct rest_client::impl {
  impl(url b, rest_options o) : base(std::move(b)), options(std::move(o)), host(host_port(base)) {}

  url base;
  rest_options options;
  std::string host;
  std::string token;
  rest_client::refresher refresh;
  bool refresh_tried = false;
  net::io_context ioc{1};
  std::optional<beast::tcp_stream> stream;
  beast::flat_buffer buffer;
  std::uint64_t opened = 0;

  // Runs the io_context until `done` (the started operation completed), then drains what
  // the operation left behind (cancelled timers) so that the next request starts clean.
  void run_until(const bool& done) {
    ioc.restart();
    while (!done && ioc.run_one() != 0) {
    }
    ioc.poll();
  }

  void close() noexcept {
    if (stream) {
      boost::system::error_code ignored;
      stream->socket().shutdown(tcp::socket::shutdown_both, ignored);
      stream->close();
      stream.reset();
    }
    buffer.clear();
    ioc.restart();
    ioc.poll();
  }

  std::error_code connect(clock_type::time_point deadline) {
    tcp::resolver resolver(ioc);
    net::steady_timer timer(ioc);
    bool done = false;
    bool timed_out = false;
    boost::system::error_code ec;
    tcp::resolver::results_type endpoints;
    timer.expires_at(deadline);
    timer.async_wait([&](const boost::system::error_code& e) {
      if (!e) {
        timed_out = true;
        resolver.cancel();
      }
    });
    resolver.async_resolve(base.host, std::to_string(base.port),
                           [&](const boost::system::error_code& e, tcp::resolver::results_type r) {
                             ec = e;
                             endpoints = std::move(r);
                             done = true;
                             timer.cancel();
                           });
    run_until(done);
    if (timed_out) return errc::timeout;
    if (ec) return errc::unreachable;

    stream.emplace(ioc);
    stream->expires_at(deadline);
    done = false;
    stream->async_connect(endpoints, [&](const boost::system::error_code& e, const tcp::endpoint&) {
      ec = e;
      done = true;
    });
    run_until(done);
    if (ec) {
      stream.reset();
      return classify(ec);
    }
    ++opened;
    boost::system::error_code ignored;
    stream->socket().set_option(tcp::no_delay(true), ignored);
    return {};
  }

  response perform(http_method method, std::string_view target, const raw_request& raw) {
    const auto deadline = clock_type::now() + options.timeout;
    bhttp::request<bhttp::string_body> req{to_verb(method), base.path + std::string(target), 11};
    req.set(bhttp::field::host, host);
    req.set(bhttp::field::user_agent, options.user_agent);
    req.set(bhttp::field::accept, "application/json");
    if (!token.empty()) req.set(bhttp::field::authorization, "Bearer " + token);
    if (!raw.body.empty()) {
      req.set(bhttp::field::content_type, raw.content_type);
      req.body().assign(raw.body);
    }
    for (const auto& [name, value] : raw.headers) req.set(name, value);
    req.keep_alive(true);
    req.prepare_payload();

    for (int attempt = 0;; ++attempt) {
      response out;
      bool reused = false;
      if (stream) {
        if (stream->socket().is_open() && connection_idle(stream->socket())) {
          reused = true;
        } else {
          close();
        }
      }
      if (!stream) {
        if (const auto ec = connect(deadline)) {
          out.error = ec;
          return out;
        }
      }

      stream->expires_at(deadline);
      bool done = false;
      boost::system::error_code ec;
      bhttp::async_write(*stream, req, [&](const boost::system::error_code& e, std::size_t) {
        ec = e;
        done = true;
      });
      run_until(done);
      const bool write_failed = static_cast<bool>(ec);

      bhttp::response_parser<bhttp::string_body> parser;
      parser.body_limit(raw.max_body_bytes != 0 ? raw.max_body_bytes : options.max_body_bytes);
      std::size_t received = 0;
      if (!ec) {
        buffer.clear();
        done = false;
        stream->expires_at(deadline);
        bhttp::async_read(*stream, buffer, parser, [&](const boost::system::error_code& e, std::size_t n) {
          ec = e;
          received = n;
          done = true;
        });
        run_until(done);
      }
      if (ec) {
        const auto mapped = classify(ec);
        close();
        // A reused connection that the server closed under us: nothing of this request was
        // processed when the write failed; for idempotent requests it does not matter.
        const bool retry = reused && attempt == 0 && mapped == errc::connection_lost && received == 0 &&
                           (write_failed || idempotent(method));
        if (retry) continue;
        out.error = ec == bhttp::error::body_limit ? std::error_code(errc::bad_response) : mapped;
        return out;
      }

      auto res = parser.release();
      out.status = res.result_int();
      out.body = std::move(res.body());
      for (const auto& field : res) out.headers.emplace_back(field.name_string(), field.value());
      if (out.status >= 400) fill_api_error(out, std::string_view(res.reason().data(), res.reason().size()));
      if (!res.keep_alive()) close();
      return out;
    }
  }
};

rest_client::rest_client(url base, rest_options options)
    : impl_(std::make_unique<impl>(std::move(base), std::move(options))) {}
rest_client::~rest_client() = default;
rest_client::rest_client(rest_client&&) noexcept = default;
rest_client& rest_client::operator=(rest_client&&) noexcept = default;

const url& rest_client::base() const noexcept { return impl_->base; }
void rest_client::set_token(std::string token) { impl_->token = std::move(token); }
const std::string& rest_client::token() const noexcept { return impl_->token; }
void rest_client::set_timeout(std::chrono::milliseconds timeout) noexcept { impl_->options.timeout = timeout; }
void rest_client::disconnect() noexcept { impl_->close(); }
std::uint64_t rest_client::connections_opened() const noexcept { return impl_->opened; }

response rest_client::request(http_method method, std::string_view target, std::string_view json_body) {
  return request(method, target, raw_request{json_body, "application/json", {}, 0});
}

response rest_client::request(http_method method, std::string_view target, const raw_request& raw) {
  auto res = impl_->perform(method, target, raw);
  if (res.status == 401 && !impl_->token.empty() && impl_->refresh && !impl_->refresh_tried) {
    impl_->refresh_tried = true;
    auto refresher = impl_->refresh;  // the refresher may call refresh() on this client
    if (auto fresh = refresher(*this); fresh && !fresh->empty()) {
      impl_->token = std::move(*fresh);
      res = impl_->perform(method, target, raw);
    }
  }
  return res;
}

void rest_client::set_refresher(refresher r) { impl_->refresh = std::move(r); }

result<session_info> rest_client::refresh(std::string_view refresh_token) {
  const auto body = proto::to_json(proto::refresh_request{std::string(refresh_token)});
  std::string token = std::exchange(impl_->token, {});
  auto r = typed(impl_->perform(http_method::post, "/api/auth/refresh", raw_request{body, "application/json", {}, 0}),
                 proto::parse_session);
  impl_->token = std::move(token);
  return r;
}

response rest_client::logout(std::string_view refresh_token) {
  if (refresh_token.empty()) return request(http_method::post, "/api/auth/logout");
  return request(http_method::post, "/api/auth/logout",
                 proto::to_json(proto::refresh_request{std::string(refresh_token)}));
}

response rest_client::logout_all() { return request(http_method::post, "/api/auth/logout-all"); }

response rest_client::change_password(std::string_view current_password, std::string_view new_password) {
  return request(
      http_method::post, "/api/users/me/password",
      proto::to_json(proto::password_change_request{std::string(current_password), std::string(new_password)}));
}

std::string_view response::header(std::string_view name) const noexcept {
  for (const auto& [k, v] : headers) {
    if (k.size() != name.size()) continue;
    bool same = true;
    for (std::size_t i = 0; i < k.size() && same; ++i) {
      same = std::tolower(static_cast<unsigned char>(k[i])) == std::tolower(static_cast<unsigned char>(name[i]));
    }
    if (same) return v;
  }
  return {};
}

result<session_info> rest_client::signup(std::string_view email, std::string_view password, std::string_view nickname) {
  const auto body =
      proto::to_json(proto::signup_request{std::string(email), std::string(password), std::string(nickname)});
  return typed(request(http_method::post, "/api/auth/signup", body), proto::parse_session);
}

result<session_info> rest_client::login(std::string_view email, std::string_view password) {
  const auto body = proto::to_json(proto::login_request{std::string(email), std::string(password)});
  return typed(request(http_method::post, "/api/auth/login", body), proto::parse_session);
}

result<user_info> rest_client::me() { return typed(request(http_method::get, "/api/users/me"), proto::parse_user); }

result<user_ref> rest_client::user_by_email(std::string_view email) {
  return typed(request(http_method::get, "/api/users?email=" + percent_encode_segment(email)), proto::parse_user_ref);
}

result<room_info> rest_client::create_direct(std::int64_t target_user_id) {
  const auto body = proto::to_json(proto::direct_room_request{target_user_id});
  return typed_room(request(http_method::post, "/api/rooms/direct", body));
}

result<room_info> rest_client::create_group(std::string_view name, std::span<const std::int64_t> member_ids) {
  const auto body = proto::to_json(
      proto::group_room_request{std::string(name), std::vector<std::int64_t>(member_ids.begin(), member_ids.end())});
  return typed_room(request(http_method::post, "/api/rooms/group", body));
}

result<std::vector<room_summary>> rest_client::list_rooms() {
  return typed(request(http_method::get, "/api/rooms"), proto::parse_room_list);
}

result<room_info> rest_client::room(std::int64_t room_id) {
  return typed_room(request(http_method::get, "/api/rooms/" + id_text(room_id)));
}

result<room_info> rest_client::add_members(std::int64_t room_id, std::span<const std::int64_t> user_ids) {
  const auto body =
      proto::to_json(proto::add_members_request{std::vector<std::int64_t>(user_ids.begin(), user_ids.end())});
  return typed_room(request(http_method::post, "/api/rooms/" + id_text(room_id) + "/members", body));
}

response rest_client::leave(std::int64_t room_id) {
  return request(http_method::delete_, "/api/rooms/" + id_text(room_id) + "/members/me");
}

result<room_info> rest_client::update_room(std::int64_t room_id, const std::optional<std::string>& name,
                                           const std::optional<std::string>& notice) {
  const auto body = proto::to_json(proto::update_room_request{name, notice});
  return typed_room(request(http_method::patch, "/api/rooms/" + id_text(room_id), body));
}

result<room_info> rest_client::set_member_role(std::int64_t room_id, std::int64_t user_id, proto::room_role role) {
  const auto body = proto::to_json(proto::role_request{role});
  return typed_room(
      request(http_method::put, "/api/rooms/" + id_text(room_id) + "/members/" + id_text(user_id) + "/role", body));
}

response rest_client::remove_member(std::int64_t room_id, std::int64_t user_id) {
  return request(http_method::delete_, "/api/rooms/" + id_text(room_id) + "/members/" + id_text(user_id));
}

response rest_client::delete_room(std::int64_t room_id) {
  return request(http_method::delete_, "/api/rooms/" + id_text(room_id));
}

result<history_page> rest_client::history(std::int64_t room_id, std::optional<std::int64_t> cursor, int size) {
  std::string target = "/api/rooms/" + id_text(room_id) + "/messages?size=" + std::to_string(size);
  if (cursor) target += "&cursor=" + id_text(*cursor);
  return typed(request(http_method::get, target), proto::parse_history_page);
}

response rest_client::mark_read(std::int64_t room_id, std::int64_t last_read_message_id) {
  const auto body = proto::to_json(proto::mark_read_request{last_read_message_id});
  return request(http_method::post, "/api/rooms/" + id_text(room_id) + "/read", body);
}

result<unread_info> rest_client::unread(std::int64_t room_id) {
  return typed(request(http_method::get, "/api/rooms/" + id_text(room_id) + "/unread"), proto::parse_unread_state);
}

result<std::vector<std::int64_t>> rest_client::online_members(std::int64_t room_id) {
  return typed(request(http_method::get, "/api/rooms/" + id_text(room_id) + "/members/online"), proto::parse_user_ids);
}

result<std::vector<proto::member_read>> rest_client::reads(std::int64_t room_id) {
  return typed(request(http_method::get, "/api/rooms/" + id_text(room_id) + "/reads"), proto::parse_member_reads);
}

}  // namespace chat::client
