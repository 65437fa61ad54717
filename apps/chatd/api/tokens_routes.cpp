// POST /api/auth/refresh, POST /api/auth/logout, POST /api/auth/logout-all (docs/rest.md "Tokens")
#include "api/db_job.hpp"
#include "api/errors.hpp"
#include "api/render.hpp"
#include "api/rest_api.hpp"
#include "store/accounts.hpp"
#include "store/revocation_bus.hpp"
#include "store/tokens.hpp"

#include <chat/auth/refresh_token.hpp>
#include <chat/common/time.hpp>
#include <chat/log/log.hpp>
#include <chat/proto/rest.hpp>

namespace chat::chatd::api {
namespace {

std::int64_t now_s() { return common::now_unix_ms() / 1000; }

http::response refresh_refused(std::string_view message) {
  auto res = http::error_response(http::status::unauthorized, codes::unauthorized, message);
  res.set(http::bhttp::field::www_authenticate, R"(Bearer realm="chat", error="invalid_token")");
  return res;
}

constexpr std::string_view refresh_route = "POST /api/auth/refresh";
constexpr std::string_view logout_route = "POST /api/auth/logout";
constexpr std::string_view logout_all_route = "POST /api/auth/logout-all";

}  // namespace

store::result<std::string> rest_api::start_session(store::session& db, const store::user_record& user,
                                                   std::int64_t watermark) {
  const std::string family = auth::make_token_id();
  const std::string refresh_token = auth::make_refresh_token();
  if (family.empty() || refresh_token.empty()) {
    return chat::unexpected(store::error{store::errc::internal, {}, "no random bytes for a token"});
  }
  const auto now = now_s();
  if (auto created = store::create_refresh_family(db, family, user.id, auth::refresh_token_hash(refresh_token),
                                                  now + refresh_ttl_.count());
      !created) {
    return chat::unexpected(std::move(created.error()));
  }
  const auto token = issue_token(user.id, user.email, family, tokens::access_issued_at(now, watermark));
  return render_session(user, token, refresh_token, jwt_ttl_.count());
}

void rest_api::announce_revocation(redis::client& redis, const tokens::revocation& r, std::string_view reason) {
  if (revocations_ != nullptr) {
    revocations_->add(r, now_s());
    if (live_tokens_ != nullptr) {
      const auto ended = live_tokens_->sweep(*revocations_, r.user_id);
      if (ended > 0 && revoked_disconnects_) revoked_disconnects_(ended);
    }
  }
  if (!store::publish_revocation(redis, r)) {
    log::warn("token revocation not published to Redis (stored in PostgreSQL)",
              {{"user", r.user_id}, {"reason", reason}, {"error", redis.last_error()}});
  }
  if (token_revoked_) token_revoked_(reason);
}

// Each refresh token works once: the presented one is marked used and a new pair is issued in
// its family. Presenting a used one again means two parties hold it: the family is revoked
// (its refresh tokens and its access tokens, on every node) and both are refused.
void rest_api::refresh(const http::request& req, const http::path_params& params, http::responder respond) {
  if (!admit_auth(req, params, respond)) return;
  proto::refresh_request body;
  if (auto error = proto::parse_refresh_request(req.body(), body)) return respond(bad_request(error));
  auto count = [this](std::string_view outcome) {
    if (refreshed_) refreshed_(outcome);
  };
  if (!auth::is_refresh_token_shaped(body.refresh_token)) {
    // An access token (a JWT) or anything else: never looked up.
    count("malformed");
    return respond(refresh_refused("invalid refresh token"));
  }
  const std::string next = auth::make_refresh_token();
  if (next.empty()) return respond(internal_error());
  run_db_job(pool_, refresh_route, respond,
             [this, presented = auth::refresh_token_hash(body.refresh_token), next, count](
                 store::session& db, store::db_context& ctx) -> job_result {
               const auto now = now_s();
               auto outcome = store::rotate_refresh_token(db, presented, auth::refresh_token_hash(next),
                                                          now + refresh_ttl_.count(), now);
               if (!outcome) return failed(outcome);
               switch (outcome->verdict) {
                 case tokens::refresh_verdict::rotate: {
                   count("rotated");
                   store::user_record user;
                   user.id = outcome->user_id;
                   user.email = outcome->email;
                   user.nickname = outcome->nickname;
                   const auto token = issue_token(user.id, user.email, outcome->family_id,
                                                  tokens::access_issued_at(now, outcome->watermark));
                   return http::json_response(http::status::ok, render_session(user, token, next, jwt_ttl_.count()));
                 }
                 case tokens::refresh_verdict::reused:
                   count("reused");
                   log::warn("refresh token reused: session revoked", {{"user", outcome->user_id}});
                   announce_revocation(ctx.redis,
                                       {tokens::revocation_kind::session, outcome->user_id, outcome->family_id, 0,
                                        now + jwt_ttl_.count() + tokens::revocation_margin_s},
                                       "reuse");
                   return refresh_refused("refresh token already used; the session was revoked, log in again");
                 case tokens::refresh_verdict::revoked:
                   count("revoked");
                   return refresh_refused("refresh token revoked");
                 case tokens::refresh_verdict::expired:
                   count("expired");
                   return refresh_refused("refresh token expired");
                 case tokens::refresh_verdict::unknown:
                   count("unknown");
                   return refresh_refused("invalid refresh token");
               }
               return refresh_refused("invalid refresh token");
             });
}

// Ends the caller's login session: its access token (jti), its refresh family (sid), and the
// family of the refresh token in the body when there is one and it is the caller's. The user's
// other sessions stay.
void rest_api::logout(const http::request& req, const http::path_params&, const caller& who, http::responder respond) {
  proto::refresh_request body;
  if (auto error = proto::parse_logout_request(req.body(), body)) return respond(bad_request(error));
  if (!body.refresh_token.empty() && !auth::is_refresh_token_shaped(body.refresh_token)) {
    return respond(bad_request("refreshToken is not a refresh token"));
  }
  run_db_job(pool_, logout_route, respond,
             [this, who,
              presented = body.refresh_token.empty() ? std::string() : auth::refresh_token_hash(body.refresh_token)](
                 store::session& db, store::db_context& ctx) -> job_result {
               const auto now = now_s();
               std::vector<std::string> families;
               if (!who.session_id.empty()) families.push_back(who.session_id);
               if (!presented.empty()) {
                 auto family = store::refresh_family_of(db, presented, who.user_id);
                 if (!family) return failed(family);
                 if (*family && *family != who.session_id) families.push_back(**family);
               }
               for (const auto& f : families) {
                 if (auto r = store::revoke_refresh_family(db, f, who.user_id, store::revoke_reason::logout); !r) {
                   return failed(r);
                 }
               }
               if (auto r = store::revoke_access_token(db, who.token_id, who.user_id, who.expires_at); !r)
                 return failed(r);
               // Durable first, then announced: a node that misses the announcement finds it in
               // PostgreSQL.
               announce_revocation(ctx.redis,
                                   {tokens::revocation_kind::token, who.user_id, who.token_id, 0,
                                    who.expires_at + tokens::revocation_margin_s},
                                   "logout");
               for (const auto& f : families) {
                 announce_revocation(ctx.redis,
                                     {tokens::revocation_kind::session, who.user_id, f, 0,
                                      now + jwt_ttl_.count() + tokens::revocation_margin_s},
                                     "logout");
               }
               log::info("user logged out", {{"user", who.user_id}});
               return http::response{http::status::no_content, 11};
             });
}

// Every token of the user, on every node: the watermark moves past now (tokens issued up to
// this second are revoked; the next login's token is issued at the watermark) and every refresh
// family is revoked.
void rest_api::logout_all(const http::request&, const http::path_params&, const caller& who, http::responder respond) {
  run_db_job(pool_, logout_all_route, respond, [this, who](store::session& db, store::db_context& ctx) -> job_result {
    const auto before = now_s() + 1;
    auto watermark = store::revoke_all_tokens(db, who.user_id, before, store::revoke_reason::logout_all);
    if (!watermark) return failed(watermark);
    announce_revocation(ctx.redis,
                        {tokens::revocation_kind::user,
                         who.user_id,
                         {},
                         *watermark,
                         *watermark + jwt_ttl_.count() + tokens::revocation_margin_s},
                        "logout_all");
    log::info("user logged out everywhere", {{"user", who.user_id}});
    return http::response{http::status::no_content, 11};
  });
}

}  // namespace chat::chatd::api
