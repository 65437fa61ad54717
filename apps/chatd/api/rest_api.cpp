#include "api/rest_api.hpp"

#include "api/db_job.hpp"
#include "store/tokens.hpp"

#include <chat/auth/jwt.hpp>
#include <chat/auth/refresh_token.hpp>
#include <chat/common/time.hpp>
#include <chat/common/uuid.hpp>
#include <chat/log/log.hpp>

#include <atomic>
#include <deque>
#include <stdexcept>
#include <thread>

namespace chat::chatd::api {
namespace {

std::int64_t now_unix_s() { return common::now_unix_ms() / 1000; }

std::string make_dummy_hash(auth::password_cost cost) {
  // Any fixed password: nobody can log in with it because no user row points at it.
  auto hash = auth::hash_password("chatd-login-timing-equaliser", cost);
  if (!hash) throw std::runtime_error("cannot hash a password at the configured --password-cost");
  return std::move(*hash);
}

int password_workers_of(const config& cfg) {
  if (cfg.password_workers > 0) return cfg.password_workers;
  // Hashing must leave cores to the I/O and database threads.
  const unsigned cores = std::thread::hardware_concurrency();
  return cores <= 2 ? 1 : static_cast<int>(cores / 2);
}

// Addresses the per-address limit tracks at most (about 100 bytes each); see
// address_rate_limiter for what happens past it.
constexpr std::size_t max_tracked_addresses = 100000;

// What a multipart/form-data upload may carry besides its file: boundaries, part headers,
// small text fields.
constexpr std::size_t multipart_envelope_bytes = 64 * 1024;

}  // namespace

auth::password_cost password_cost_of(std::string_view name) {
  if (name == "minimum") return auth::password_cost::minimum();
  if (name == "moderate") {
    // libsodium's MODERATE preset (crypto_pwhash_OPSLIMIT_MODERATE / MEMLIMIT_MODERATE).
    return {3, std::size_t{256} * 1024 * 1024};
  }
  return auth::password_cost::interactive();
}

rest_api::rest_api(const config& cfg, store::db_pool& pool, message_log& log)
    : jwt_secret_(cfg.jwt_secret),
      jwt_ttl_(cfg.jwt_ttl),
      refresh_ttl_(cfg.refresh_ttl),
      password_cost_(password_cost_of(cfg.password_cost)),
      dummy_hash_(make_dummy_hash(password_cost_)),
      login_failure_limit_(cfg.login_failure_limit),
      login_failure_window_(cfg.login_failure_window),
      max_file_bytes_(cfg.max_file_bytes),
      pool_(pool),
      log_(log),
      trusted_proxies_(cfg.trusted_proxies),
      auth_limiter_(cfg.auth_rate_limit > 0 ? std::make_unique<address_rate_limiter>(
                                                  cfg.auth_rate_limit, cfg.auth_rate_burst, max_tracked_addresses)
                                            : nullptr),
      passwords_(password_workers_of(cfg), static_cast<std::size_t>(cfg.password_queue), cfg.password_hasher_executable,
                 cfg.password_cpu_share) {
  edit_window_ = cfg.edit_window;
  max_content_chars_ = cfg.max_content_chars;
  keys_ = std::make_shared<chatd::local_message_keys>();
  passwords_.start();
}

rest_api::~rest_api() { stop(); }

void rest_api::stop() { passwords_.stop(); }

void rest_api::add_public(http::router& routes, http::verb method, const char* pattern, public_handler h) {
  routes.add(method, pattern,
             [this, h](const http::request& req, const http::path_params& params, http::responder respond) {
               (this->*h)(req, params, std::move(respond));
             });
}

void rest_api::add_authed(http::router& routes, http::verb method, const char* pattern, authed_handler h,
                          std::size_t max_body_bytes) {
  routes.add(
      method, pattern,
      [this, h](const http::request& req, const http::path_params& params, http::responder respond) {
        auto outcome = authenticate(req, jwt_secret_, now_unix_s());
        if (!outcome.who) {
          // The path only: a query string may carry a token (?access_token=...).
          const std::string_view target = req.target();
          log::debug("request refused: unauthenticated",
                     {{"path", target.substr(0, target.find('?'))}, {"reason", outcome.detail.message()}});
          respond(unauthorized(outcome.failure));
          return;
        }
        run_checked(req, params, std::move(*outcome.who), h, std::move(respond));
      },
      max_body_bytes,
      // A larger body only with a valid token: without one the server's 64 KiB apply (then 401),
      // so nobody unauthenticated makes the node buffer an upload.
      [this](const http::request& head) { return authenticate(head, jwt_secret_, now_unix_s()).who.has_value(); });
}

void rest_api::register_routes(http::router& routes) {
  using http::verb;
  add_public(routes, verb::post, "/api/auth/signup", &rest_api::signup);
  add_public(routes, verb::post, "/api/auth/login", &rest_api::login);
  add_public(routes, verb::post, "/api/auth/refresh", &rest_api::refresh);
  add_authed(routes, verb::post, "/api/auth/logout", &rest_api::logout);
  add_authed(routes, verb::post, "/api/auth/logout-all", &rest_api::logout_all);
  add_authed(routes, verb::get, "/api/users/me", &rest_api::me);
  add_authed(routes, verb::post, "/api/users/me/password", &rest_api::change_password);
  add_authed(routes, verb::get, "/api/users", &rest_api::find_user);
  // People (SPEC §15; people_routes.cpp). Literal segments before {id}.
  add_authed(routes, verb::patch, "/api/users/me", &rest_api::update_me);
  add_authed(routes, verb::get, "/api/users/search", &rest_api::search_users);
  add_authed(routes, verb::get, "/api/users/{id}", &rest_api::get_user);
  add_authed(routes, verb::get, "/api/friends", &rest_api::list_friends);
  add_authed(routes, verb::post, "/api/friends/requests", &rest_api::send_friend_request);
  add_authed(routes, verb::get, "/api/friends/requests", &rest_api::list_friend_requests);
  add_authed(routes, verb::post, "/api/friends/requests/{id}/accept", &rest_api::accept_friend_request);
  add_authed(routes, verb::post, "/api/friends/requests/{id}/reject", &rest_api::reject_friend_request);
  add_authed(routes, verb::delete_, "/api/friends/requests/{id}", &rest_api::cancel_friend_request);
  add_authed(routes, verb::delete_, "/api/friends/{userId}", &rest_api::remove_friend);

  // Literal segments before {id} captures: the router takes the first match.
  add_authed(routes, verb::post, "/api/rooms/direct", &rest_api::open_direct);
  add_authed(routes, verb::post, "/api/rooms/group", &rest_api::create_group);
  add_authed(routes, verb::get, "/api/rooms", &rest_api::list_rooms);
  add_authed(routes, verb::get, "/api/rooms/stream", &rest_api::room_stream);  // before /api/rooms/{id}
  add_authed(routes, verb::get, "/api/rooms/{id}", &rest_api::room_detail);
  add_authed(routes, verb::patch, "/api/rooms/{id}", &rest_api::update_room);
  add_authed(routes, verb::delete_, "/api/rooms/{id}", &rest_api::delete_room);
  add_authed(routes, verb::post, "/api/rooms/{id}/members", &rest_api::invite);
  add_authed(routes, verb::delete_, "/api/rooms/{id}/members/me", &rest_api::leave);  // before {userId}
  add_authed(routes, verb::delete_, "/api/rooms/{id}/members/{userId}", &rest_api::remove_member);
  add_authed(routes, verb::put, "/api/rooms/{id}/members/{userId}/role", &rest_api::set_member_role);
  add_authed(routes, verb::get, "/api/rooms/{id}/members/online", &rest_api::online);
  add_authed(routes, verb::get, "/api/rooms/{id}/messages", &rest_api::history);
  add_authed(routes, verb::post, "/api/rooms/{id}/read", &rest_api::mark_read);
  add_authed(routes, verb::get, "/api/rooms/{id}/unread", &rest_api::unread);
  add_authed(routes, verb::get, "/api/rooms/{id}/reads", &rest_api::reads);

  // The message lifecycle (SPEC §13; lifecycle_routes.cpp).
  add_authed(routes, verb::post, "/api/rooms/{id}/messages", &rest_api::post_message);
  add_authed(routes, verb::get, "/api/rooms/{id}/messages/{mid}", &rest_api::get_message);
  add_authed(routes, verb::patch, "/api/rooms/{id}/messages/{mid}", &rest_api::edit_message);
  add_authed(routes, verb::delete_, "/api/rooms/{id}/messages/{mid}", &rest_api::delete_message);
  add_authed(routes, verb::get, "/api/rooms/{id}/messages/{mid}/thread", &rest_api::thread);
  add_authed(routes, verb::put, "/api/rooms/{id}/messages/{mid}/reactions/{emoji}", &rest_api::react);
  add_authed(routes, verb::delete_, "/api/rooms/{id}/messages/{mid}/reactions/{emoji}", &rest_api::react);
  add_authed(routes, verb::get, "/api/rooms/{id}/pins", &rest_api::list_pins);
  add_authed(routes, verb::put, "/api/rooms/{id}/pins/{mid}", &rest_api::pin);
  add_authed(routes, verb::delete_, "/api/rooms/{id}/pins/{mid}", &rest_api::pin);
  add_authed(routes, verb::get, "/api/bookmarks", &rest_api::list_bookmarks);
  add_authed(routes, verb::put, "/api/bookmarks/{messageId}", &rest_api::put_bookmark);
  add_authed(routes, verb::delete_, "/api/bookmarks/{messageId}", &rest_api::delete_bookmark);

  // Scheduled messages (SPEC §16; scheduled_routes.cpp).
  add_authed(routes, verb::post, "/api/rooms/{id}/scheduled", &rest_api::create_scheduled);
  add_authed(routes, verb::get, "/api/rooms/{id}/scheduled", &rest_api::list_scheduled);
  add_authed(routes, verb::delete_, "/api/rooms/{id}/scheduled/{sid}", &rest_api::delete_scheduled);

  // Blocks (SPEC §15; blocks_routes.cpp).
  add_authed(routes, verb::get, "/api/blocks", &rest_api::list_blocks);
  add_authed(routes, verb::put, "/api/blocks/{userId}", &rest_api::put_block);
  add_authed(routes, verb::delete_, "/api/blocks/{userId}", &rest_api::delete_block);

  // A multipart body may exceed --max-file-bytes by its envelope; its file part may not.
  add_authed(routes, verb::post, "/api/files", &rest_api::upload_file, max_file_bytes_ + multipart_envelope_bytes);
  add_authed(routes, verb::get, "/api/files/{id}", &rest_api::download_file);
}

void rest_api::run_checked(const http::request& req, const http::path_params& params, caller who, authed_handler h,
                           http::responder respond) {
  if (revocations_ == nullptr) return (this->*h)(req, params, who, std::move(respond));
  const tokens::token_ref ref{who.user_id, who.token_id, who.session_id, who.issued_at};
  if (revocations_->complete()) {
    if (revocations_->is_revoked(ref)) return respond(unauthorized(auth_failure::revoked));
    return (this->*h)(req, params, who, std::move(respond));
  }
  // The cache may miss revocations (Redis down): PostgreSQL decides, fail closed (503 when it
  // cannot). The handler then runs on the pool worker, with copies of what it reads: the
  // request and its parameters do not outlive this call.
  struct held {
    http::request req;
    std::deque<std::string> texts;  // the parameters' names and values (stable addresses)
    http::path_params params;
  };
  auto copy = std::make_shared<held>();
  copy->req = req;
  for (const auto& [name, value] : params.items()) {
    const auto& n = copy->texts.emplace_back(name);
    const auto& v = copy->texts.emplace_back(value);
    copy->params.add(n, v);
  }
  copy->params.set_peer(params.peer());
  copy->params.set_stream(params.stream());
  const bool queued = pool_.submit([this, copy, who = std::move(who), h, respond](store::db_context& ctx) mutable {
    if (ctx.db == nullptr) return respond(unauthorized(auth_failure::unavailable));
    const tokens::token_ref ref{who.user_id, who.token_id, who.session_id, who.issued_at};
    const auto found = store::access_token_revocation(*ctx.db, ref);
    if (!found) {
      log::warn("token revocation check failed", {{"error", found.error().message}});
      return respond(unauthorized(auth_failure::unavailable));
    }
    if (*found != tokens::revocation_reason::none) return respond(unauthorized(auth_failure::revoked));
    try {
      (this->*h)(copy->req, copy->params, who, respond);
    } catch (...) {
      respond(detail::work_threw("authenticated route"));
    }
  });
  if (!queued) respond(unavailable("server overloaded, try again"));
}

std::string rest_api::issue_token(std::int64_t user_id, const std::string& email, const std::string& session_id,
                                  std::int64_t issued_at) const {
  auth::claims claims;
  claims.user_id = user_id;
  claims.email = email;
  claims.issued_at = issued_at;
  claims.expires_at = claims.issued_at + jwt_ttl_.count();
  claims.token_id = auth::make_token_id();
  claims.session_id = session_id;
  return auth::sign_jwt(claims, jwt_secret_);
}

void rest_api::publish_room_events(std::string_view route, std::vector<proto::chat_message> events,
                                   std::function<void()> done) const {
  if (events.empty()) return done();
  struct pending {
    std::atomic<std::size_t> left;
    std::function<void()> done;
  };
  auto state = std::make_shared<pending>(events.size(), std::move(done));
  const std::int64_t now = common::now_unix_ms();
  // One producer, one partition per room: the records keep the order of these calls.
  for (auto& event : events) {
    event.message_key = common::make_uuid_v4();
    event.created_at_ms = now;
    log_.publish_message(event, [state, route, room = event.room_id, kind = proto::to_string(event.event),
                                 key = event.message_key](const publish_result& result) {
      if (!result.ok) {
        log::warn("room event not published",
                  {{"route", route}, {"room", room}, {"event", kind}, {"messageKey", key}, {"error", result.error}});
      }
      if (state->left.fetch_sub(1, std::memory_order_acq_rel) == 1) state->done();
    });
  }
}

}  // namespace chat::chatd::api
