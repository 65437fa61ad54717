// POST /api/auth/signup, POST /api/auth/login, GET /api/users/me, GET /api/users?email=
#include "api/db_job.hpp"
#include "api/errors.hpp"
#include "api/query.hpp"
#include "api/render.hpp"
#include "api/rest_api.hpp"
#include "store/accounts.hpp"
#include "store/login_guard.hpp"

#include <chat/auth/password.hpp>
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

}  // namespace

void rest_api::signup(const http::request& req, const http::path_params&, http::responder respond) {
  proto::signup_request body;
  if (auto error = proto::parse_signup_request(req.body(), body)) return respond(bad_request(error));
  run_db_job(pool_, "POST /api/auth/signup", respond,
             [this, body = std::move(body)](store::session& db, store::db_context&) -> job_result {
               // Checked before hashing so a taken email costs no Argon2 work; the INSERT
               // below still decides a race between two sign-ups of one address.
               auto registered = store::email_registered(db, body.email);
               if (!registered) return failed(registered);
               if (*registered) return conflict("email already registered");
               const auto hash = auth::hash_password(body.password, password_cost_);
               if (!hash) {
                 log::error("password hashing failed", {{"route", "signup"}});
                 return unavailable("cannot create an account right now");
               }
               auto inserted = store::insert_user(db, body.email, *hash, body.nickname);
               if (!inserted) return failed(inserted);
               const auto& user = *inserted;
               if (!user) return conflict("email already registered");
               log::info("user signed up", {{"user", user->id}});
               return http::json_response(http::status::created,
                                          render_session(*user, issue_token(user->id, user->email)));
             });
}

void rest_api::login(const http::request& req, const http::path_params&, http::responder respond) {
  proto::login_request body;
  if (auto error = proto::parse_login_request(req.body(), body)) return respond(bad_request(error));
  run_db_job(pool_, "POST /api/auth/login", respond,
             [this, body = std::move(body)](store::session& db, store::db_context& ctx) -> job_result {
               // Unknown and wrong passwords cost the same Argon2 verification and get the
               // same answer, so neither timing nor body tells which emails exist.
               // The failure limit applies to unknown emails too, so the answers stay alike.
               const bool limited = login_failure_limit_ > 0;
               if (limited) {
                 if (const auto remaining = store::login_lock_remaining(ctx.redis, body.email, login_failure_limit_)) {
                   if (login_locked_) login_locked_();
                   return login_locked(*remaining);
                 }
               }
               auto login_failed = [&] {
                 if (limited) store::record_login_failure(ctx.redis, body.email, login_failure_window_);
                 return invalid_credentials();
               };
               std::optional<store::user_record> user;
               if (proto::is_valid_email(body.email)) {
                 auto found = store::find_user_by_email(db, body.email);
                 if (!found) return failed(found);
                 user = std::move(*found);
               }
               if (!user) {
                 (void)auth::verify_password(dummy_hash_, body.password);
                 return login_failed();
               }
               if (!auth::verify_password(user->password_hash, body.password)) return login_failed();
               if (limited) store::clear_login_failures(ctx.redis, body.email);
               if (auth::password_needs_rehash(user->password_hash, password_cost_)) {
                 // Parameters were raised since this hash was made: upgrade it, best effort.
                 if (auto hash = auth::hash_password(body.password, password_cost_)) {
                   if (auto stored = store::update_password_hash(db, user->id, *hash); !stored) {
                     log::warn("password rehash not stored", {{"user", user->id}, {"error", stored.error().message}});
                   }
                 }
               }
               return http::json_response(http::status::ok, render_session(*user, issue_token(user->id, user->email)));
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
