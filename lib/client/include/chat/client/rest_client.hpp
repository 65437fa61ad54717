#pragma once
// Synchronous client of chatd's REST API (docs/rest.md): HTTP/1.1 over plain TCP (no TLS), JSON
// bodies, one keep-alive connection reused across requests, a time limit per request.
//
//   chat::client::rest_client api(*chat::client::parse_url("http://127.0.0.1:8080"));
//   auto login = api.login("ann@example.com", password);
//   if (!login) { /* login.http.error (no answer) or login.http.status + login.http.api */ }
//   api.set_token(login.value->token);
//   auto rooms = api.list_rooms();
#include <chat/client/url.hpp>
#include <chat/proto/message.hpp>
#include <chat/proto/rest.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

namespace chat::client {

// The docs/rest.md error body {"error":{"code","message"}}. When an error status comes without such a
// body, code is "http_<status>" and message the reason phrase or the body's first line.
using api_error = proto::api_error;

// What one request produced: either no answer (error set: errc::unreachable, errc::timeout,
// errc::connection_lost, errc::bad_response, ...) or an HTTP answer (status set).
struct response {
  std::error_code error;  // set when there is no usable HTTP answer
  unsigned status = 0;    // HTTP status; 0 without an answer
  std::string body;       // raw body
  api_error api;          // for status >= 400
  // The answer's headers, as received, in order.
  std::vector<std::pair<std::string, std::string>> headers;

  // An HTTP answer with a 2xx status.
  bool ok() const noexcept { return !error && status >= 200 && status < 300; }
  // The first header of that name (case-insensitive), or empty.
  std::string_view header(std::string_view name) const noexcept;
};

// A request with a body of any type (request() sends JSON): uploads, conditional downloads.
struct raw_request {
  std::string_view body;
  std::string_view content_type;                             // sent when the body is not empty
  std::vector<std::pair<std::string, std::string>> headers;  // extra request headers
  std::size_t max_body_bytes = 0;                            // of the answer; 0: rest_options'
};

// A response plus the typed value of a 2xx answer. `value` is empty when !http.ok(), or when
// the body is not what chat::proto's parser of the type accepts (then http.error =
// errc::bad_response).
template <class T>
struct result {
  response http;
  std::optional<T> value;

  explicit operator bool() const noexcept { return value.has_value(); }
};

// ---- docs/rest.md answer types: those of chat::proto (chat/proto/rest.hpp), which chatd encodes. ----

using session_info = proto::session;  // signup, login
using user_info = proto::user;        // GET /api/users/me
using user_ref = proto::user_ref;     // GET /api/users?email=
using room_member = proto::room_member;
using room_summary = proto::room_summary;  // GET /api/rooms
using history_page = proto::history_page;  // GET /api/rooms/{id}/messages
using unread_info = proto::unread_state;   // GET /api/rooms/{id}/unread

struct room_info : proto::room {  // room detail: direct, group, GET /api/rooms/{id}, invite
  bool created = false;           // POST /api/rooms/direct answered 201 (new) rather than 200 (existing)
};

struct rest_options {
  // Limit for one request: connect, send, and the whole answer. A reused connection that
  // turns out closed is reopened within the same limit.
  std::chrono::milliseconds timeout{10000};
  std::size_t max_body_bytes = 16 * 1024 * 1024;
  std::string user_agent = "chat-client";
};

enum class http_method { get, post, put, delete_, patch };

// One instance per thread: not thread-safe. Blocks the calling thread for at most
// rest_options::timeout per request (name resolution included).
class rest_client {
 public:
  explicit rest_client(url base, rest_options options = {});
  ~rest_client();
  rest_client(rest_client&&) noexcept;
  rest_client& operator=(rest_client&&) noexcept;

  const url& base() const noexcept;
  // "Authorization: Bearer <token>" on every later request; empty = none.
  void set_token(std::string token);
  const std::string& token() const noexcept;
  void set_timeout(std::chrono::milliseconds timeout) noexcept;
  // Called when a request sent with a token is answered 401 (the access token expired or was
  // revoked): returns a new access token (e.g. from a refresh, which the refresher performs and
  // stores itself) or nullopt. With a new token the request is sent once more; the refresher is
  // asked at most once per rest_client, so a refused refresh never loops. Empty: no retry.
  using refresher = std::function<std::optional<std::string>(rest_client&)>;
  void set_refresher(refresher r);

  // Any request. `target` is appended to the base path ("/api/rooms?x=1"). A non-empty
  // `json_body` is sent with Content-Type: application/json.
  response request(http_method method, std::string_view target, std::string_view json_body = {});
  // The same with any body, extra headers and a larger answer limit (lib/client files.hpp).
  response request(http_method method, std::string_view target, const raw_request& raw);

  // Drops the kept-alive connection (the next request opens a new one).
  void disconnect() noexcept;
  // Connections opened so far (keep-alive makes this 1 for a series of requests).
  std::uint64_t connections_opened() const noexcept;

  // ---- one helper per docs/rest.md route ----
  result<session_info> signup(std::string_view email, std::string_view password, std::string_view nickname);
  result<session_info> login(std::string_view email, std::string_view password);
  // POST /api/auth/refresh: a new pair for a refresh token (each works once). Sent without the
  // Authorization header and never retried through the refresher.
  result<session_info> refresh(std::string_view refresh_token);
  // POST /api/auth/logout (204): the token's session; with `refresh_token`, its family too.
  response logout(std::string_view refresh_token = {});
  // POST /api/auth/logout-all (204): every token of the user.
  response logout_all();
  // POST /api/users/me/password (204): every token of the user is revoked.
  response change_password(std::string_view current_password, std::string_view new_password);
  result<user_info> me();
  result<user_ref> user_by_email(std::string_view email);
  result<room_info> create_direct(std::int64_t target_user_id);
  result<room_info> create_group(std::string_view name, std::span<const std::int64_t> member_ids);
  result<std::vector<room_summary>> list_rooms();
  result<room_info> room(std::int64_t room_id);
  result<room_info> add_members(std::int64_t room_id, std::span<const std::int64_t> user_ids);
  response leave(std::int64_t room_id);
  // Room administration (SPEC §16): PATCH /api/rooms/{id} (name and/or notice; "" clears the
  // notice), PUT …/members/{userId}/role, DELETE …/members/{userId}, DELETE /api/rooms/{id}.
  result<room_info> update_room(std::int64_t room_id, const std::optional<std::string>& name,
                                const std::optional<std::string>& notice);
  result<room_info> set_member_role(std::int64_t room_id, std::int64_t user_id, proto::room_role role);
  response remove_member(std::int64_t room_id, std::int64_t user_id);
  response delete_room(std::int64_t room_id);
  // cursor: messages older than this id (nullopt = newest); size 1–100.
  result<history_page> history(std::int64_t room_id, std::optional<std::int64_t> cursor, int size = 20);
  response mark_read(std::int64_t room_id, std::int64_t last_read_message_id);
  result<unread_info> unread(std::int64_t room_id);
  result<std::vector<std::int64_t>> online_members(std::int64_t room_id);
  // GET /api/rooms/{id}/reads: every member's last-read message id.
  result<std::vector<proto::member_read>> reads(std::int64_t room_id);

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace chat::client
