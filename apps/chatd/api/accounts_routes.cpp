// POST /api/auth/signup, POST /api/auth/login, GET /api/users/me, GET /api/users?email=
#include "api/db_job.hpp"
#include "api/errors.hpp"
#include "api/query.hpp"
#include "api/render.hpp"
#include "api/rest_api.hpp"
#include "store/accounts.hpp"
#include "store/login_guard.hpp"
#include "store/tokens.hpp"

#include <chat/auth/password.hpp>
#include <chat/common/time.hpp>
#include <chat/log/log.hpp>
#include <chat/proto/rest.hpp>

namespace chat::chatd::api {
namespace {

http::response invalid_credentials() {
  return http::error_response(http::status::unauthorized, codes::invalid_credentials, "invalid email or password");
}

http::response login_locked(std::chrono::seconds remaining) {
  auto res = http::error_response(
      http::status::too_many_requests, codes::rate_limited,
      "too many failed logins for this email; try again in " + std::to_string(remaining.count()) + " s");
  res.set(http::bhttp::field::retry_after, std::to_string(remaining.count()));
  return res;
}

http::response passwords_busy() { return unavailable("too many sign-ups and logins in progress, try again"); }

constexpr std::string_view signup_route = "POST /api/auth/signup";
constexpr std::string_view login_route = "POST /api/auth/login";
constexpr std::string_view password_route = "POST /api/users/me/password";

http::response wrong_current_password() {
  return http::error_response(http::status::forbidden, codes::invalid_credentials, "the current password is wrong");
}

// A signup or login refused for load (429 per address, 503 password queue full) is answered
// this much later (api/password_pool.hpp answer_later): a client that retries at once then
// sends about one request per second per connection, not thousands.
constexpr std::chrono::milliseconds refusal_pace{1000};
// A hash job that waited longer than this for a password worker is answered 503 without
// hashing: its client has most likely given up (chatload's flood waits 10 s, browsers
// longer), and hashing for nobody only keeps the queue full.
constexpr std::chrono::seconds password_job_max_wait{10};

}  // namespace

bool rest_api::admit_auth(const http::request& req, const http::path_params& params, const http::responder& respond) {
  if (!auth_limiter_) return true;
  std::string forwarded;
  if (!trusted_proxies_.empty()) {
    // Several X-Forwarded-For headers are one list (RFC 9110, 5.3).
    const auto [first, last] = req.equal_range("X-Forwarded-For");
    for (auto it = first; it != last; ++it) {
      if (!forwarded.empty()) forwarded += ',';
      forwarded += it->value();
    }
  }
  const ip_bytes who = client_address(params.peer(), forwarded, trusted_proxies_);
  const auto wait = auth_limiter_->acquire(who, address_rate_limiter::clock::now());
  if (!wait) return true;
  if (auth_rate_limited_) auth_rate_limited_();
  auto res = http::error_response(
      http::status::too_many_requests, codes::rate_limited,
      "too many sign-ups and logins from this address; try again in " + std::to_string(wait->count()) + " s");
  res.set(http::bhttp::field::retry_after, std::to_string(wait->count()));
  passwords_.answer_later(refusal_pace, [respond, res = std::move(res)]() mutable { respond(std::move(res)); });
  return false;
}

bool rest_api::password_room(const http::responder& respond) {
  // Shed a flood before it costs database work too; submit_password_job still decides.
  if (!passwords_.full()) return true;
  if (password_shed_) password_shed_();
  passwords_.answer_later(refusal_pace, [respond] { respond(passwords_busy()); });
  return false;
}

template <class Work>
bool rest_api::submit_password_job(std::string_view route, http::responder respond, Work work) {
  const bool queued = passwords_.submit(
      [this, route, respond, work = std::move(work), queued_at = std::chrono::steady_clock::now()]() mutable {
        if (std::chrono::steady_clock::now() - queued_at > password_job_max_wait) {
          if (password_shed_) password_shed_();
          return respond(passwords_busy());
        }
        try {
          work();
        } catch (...) {
          respond(detail::work_threw(route));
        }
      });
  if (!queued && password_shed_) password_shed_();
  return queued;
}

// Three steps, so that no database worker waits for Argon2 and no password worker for
// the database: (1) db_pool: is the email taken? (2) password_pool: hash. (3) db_pool:
// insert. Each step queues the next; a full queue answers 503 (paced: refusal_pace).
void rest_api::signup(const http::request& req, const http::path_params& params, http::responder respond) {
  if (!admit_auth(req, params, respond) || !password_room(respond)) return;
  proto::signup_request body;
  if (auto error = proto::parse_signup_request(req.body(), body)) return respond(bad_request(error));
  run_db_job_deferred(
      pool_, signup_route, respond,
      [this, body = std::move(body)](store::session& db, store::db_context&,
                                     const http::responder& respond) mutable -> deferred_job_result {
        // Checked before hashing so a taken email costs no Argon2 work; the INSERT
        // below still decides a race between two sign-ups of one address.
        auto registered = store::email_registered(db, body.email);
        if (!registered) return failed(registered);
        if (*registered) return conflict("email already registered");
        const bool queued = submit_password_job(signup_route, respond, [this, body = std::move(body), respond] {
          auto hash = password_pool::hash_password(body.password, password_cost_);
          if (!hash) {
            log::error("password hashing failed", {{"route", "signup"}});
            return respond(unavailable("cannot create an account right now"));
          }
          run_db_job(pool_, signup_route, respond,
                     [this, body, hash = std::move(*hash)](store::session& db, store::db_context&) -> job_result {
                       auto inserted = store::insert_user(db, body.email, hash, body.nickname);
                       if (!inserted) return failed(inserted);
                       const auto& user = *inserted;
                       if (!user) return conflict("email already registered");
                       log::info("user signed up", {{"user", user->id}});
                       auto body = start_session(db, *user, 0);
                       if (!body) return failed(body);
                       return http::json_response(http::status::created, std::move(*body));
                     });
        });
        if (!queued) passwords_.answer_later(refusal_pace, [respond] { respond(passwords_busy()); });
        return std::nullopt;
      });
}

// Three steps as for signup: (1) db_pool: the per-email lock, the user row. (2)
// password_pool: verify (and rehash when the cost was raised). (3) db_pool: count the
// failure or clear the failures, store a rehash, answer. Unknown and wrong passwords cost
// the same Argon2 verification and get the same answer from the same steps, so neither
// timing nor body tells which emails exist. The failure limit applies to unknown emails
// too, so the answers stay alike; a failure is counted before it is answered (a full
// db_pool queue at step 3 answers 503, whatever the password was).
void rest_api::login(const http::request& req, const http::path_params& params, http::responder respond) {
  if (!admit_auth(req, params, respond) || !password_room(respond)) return;
  proto::login_request body;
  if (auto error = proto::parse_login_request(req.body(), body)) return respond(bad_request(error));
  run_db_job_deferred(
      pool_, login_route, respond,
      [this, body = std::move(body)](store::session& db, store::db_context& ctx,
                                     const http::responder& respond) mutable -> deferred_job_result {
        if (login_failure_limit_ > 0) {
          if (const auto remaining = store::login_lock_remaining(ctx.redis, body.email, login_failure_limit_)) {
            if (login_locked_) login_locked_();
            return login_locked(*remaining);
          }
        }
        std::optional<store::user_record> user;
        if (proto::is_valid_email(body.email)) {
          auto found = store::find_user_by_email(db, body.email);
          if (!found) return failed(found);
          user = std::move(*found);
        }
        const bool queued = submit_password_job(
            login_route, respond, [this, body = std::move(body), user = std::move(user), respond]() mutable {
              const bool ok =
                  password_pool::verify_password(user ? user->password_hash : dummy_hash_, body.password) && user;
              if (password_verified_) password_verified_(user.has_value());
              std::optional<std::string> rehash;
              if (ok && auth::password_needs_rehash(user->password_hash, password_cost_)) {
                // Parameters were raised since this hash was made: upgrade it, best effort.
                rehash = password_pool::hash_password(body.password, password_cost_);
              }
              run_db_job(pool_, login_route, respond,
                         [this, email = std::move(body.email), user = std::move(user), ok, rehash = std::move(rehash)](
                             store::session& db, store::db_context& ctx) -> job_result {
                           const bool limited = login_failure_limit_ > 0;
                           if (!ok) {
                             if (limited) store::record_login_failure(ctx.redis, email, login_failure_window_);
                             return invalid_credentials();
                           }
                           if (limited) store::clear_login_failures(ctx.redis, email);
                           if (rehash) {
                             if (auto stored = store::update_password_hash(db, user->id, *rehash); !stored) {
                               log::warn("password rehash not stored",
                                         {{"user", user->id}, {"error", stored.error().message}});
                             }
                           }
                           auto watermark = store::token_watermark(db, user->id);
                           if (!watermark) return failed(watermark);
                           auto body = start_session(db, *user, *watermark);
                           if (!body) return failed(body);
                           return http::json_response(http::status::ok, std::move(*body));
                         });
            });
        if (!queued) passwords_.answer_later(refusal_pace, [respond] { respond(passwords_busy()); });
        return std::nullopt;
      });
}

// Three steps as for login: (1) db_pool: the failure lock of the caller's email, the user row.
// (2) password_pool: verify the current password, hash the new one. (3) db_pool: store the
// hash and revoke every token of the user (as logout-all), in that order: a failure between
// the two leaves the new password set and the old tokens alive, never the reverse. A wrong
// current password is 403 (not 401: the token is fine) and counts against the email's
// --login-failure-limit like a failed login, so a stolen access token is no faster oracle for
// the password than the login route.
void rest_api::change_password(const http::request& req, const http::path_params& params, const caller& who,
                               http::responder respond) {
  if (!admit_auth(req, params, respond) || !password_room(respond)) return;
  proto::password_change_request body;
  if (auto error = proto::parse_password_change_request(req.body(), body)) return respond(bad_request(error));
  run_db_job_deferred(
      pool_, password_route, respond,
      [this, who, body = std::move(body)](store::session& db, store::db_context& ctx,
                                          const http::responder& respond) mutable -> deferred_job_result {
        auto found = store::find_user_by_id(db, who.user_id);
        if (!found) return failed(found);
        if (!*found) return unauthorized(auth_failure::invalid);
        store::user_record user = std::move(**found);
        if (login_failure_limit_ > 0) {
          if (const auto remaining = store::login_lock_remaining(ctx.redis, user.email, login_failure_limit_)) {
            if (login_locked_) login_locked_();
            return login_locked(*remaining);
          }
        }
        const bool queued = submit_password_job(
            password_route, respond, [this, body = std::move(body), user = std::move(user), respond]() mutable {
              const bool ok = password_pool::verify_password(user.password_hash, body.current_password);
              std::optional<std::string> hash;
              if (ok) {
                hash = password_pool::hash_password(body.new_password, password_cost_);
                if (!hash) {
                  log::error("password hashing failed", {{"route", "password"}});
                  return respond(unavailable("cannot change the password right now"));
                }
              }
              run_db_job(pool_, password_route, respond,
                         [this, ok, user = std::move(user), hash = std::move(hash)](
                             store::session& db, store::db_context& ctx) -> job_result {
                           const bool limited = login_failure_limit_ > 0;
                           if (!ok) {
                             if (limited) store::record_login_failure(ctx.redis, user.email, login_failure_window_);
                             return wrong_current_password();
                           }
                           if (limited) store::clear_login_failures(ctx.redis, user.email);
                           if (auto stored = store::update_password_hash(db, user.id, *hash); !stored)
                             return failed(stored);
                           const auto before = common::now_unix_ms() / 1000 + 1;
                           auto watermark =
                               store::revoke_all_tokens(db, user.id, before, store::revoke_reason::password_change);
                           if (!watermark) return failed(watermark);
                           announce_revocation(ctx.redis,
                                               {tokens::revocation_kind::user,
                                                user.id,
                                                {},
                                                *watermark,
                                                *watermark + jwt_ttl_.count() + tokens::revocation_margin_s},
                                               "password_change");
                           log::info("password changed; every token revoked", {{"user", user.id}});
                           return http::response{http::status::no_content, 11};
                         });
            });
        if (!queued) passwords_.answer_later(refusal_pace, [respond] { respond(passwords_busy()); });
        return std::nullopt;
      });
}

void rest_api::me(const http::request&, const http::path_params&, const caller& who, http::responder respond) {
  run_db_job(pool_, "GET /api/users/me", respond,
             [id = who.user_id](store::session& db, store::db_context&) -> job_result {
               auto found = store::find_user_by_id(db, id);
               if (!found) return failed(found);
               const auto& user = *found;
               // A validly signed token of a user that no longer exists.
               if (!user) return unauthorized(auth_failure::invalid);
               return http::json_response(http::status::ok, render_me(*user));
             });
}

void rest_api::find_user(const http::request& req, const http::path_params&, const caller&, http::responder respond) {
  std::optional<std::string> raw;
  if (auto error = query_param(req.target(), "email", raw)) return respond(bad_request(error));
  if (!raw || raw->empty()) return respond(bad_request("query parameter email is required"));
  std::string email = proto::normalize_email(*raw);
  if (!proto::is_valid_email(email)) return respond(bad_request("email must be a valid email address"));
  run_db_job(pool_, "GET /api/users", respond,
             [email = std::move(email)](store::session& db, store::db_context&) -> job_result {
               auto found = store::find_user_by_email(db, email);
               if (!found) return failed(found);
               const auto& user = *found;
               if (!user) return not_found("no user with this email");
               return http::json_response(http::status::ok, render_user_ref(*user));
             });
}

}  // namespace chat::chatd::api
