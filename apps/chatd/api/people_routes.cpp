// People (SPEC §15, docs/rest.md "Profiles", "Search", "Friends"): PATCH /api/users/me,
// GET /api/users/{id}, GET /api/users/search, the friend requests and GET/DELETE /api/friends.
#include "api/db_job.hpp"
#include "api/errors.hpp"
#include "api/query.hpp"
#include "api/render.hpp"
#include "api/rest_api.hpp"
#include "store/accounts.hpp"
#include "store/people.hpp"
#include "store/presence.hpp"
#include "store/user_events.hpp"

#include "store/friends.hpp"

#include <chat/common/time.hpp>
#include <chat/log/log.hpp>
#include <chat/proto/ids.hpp>
#include <chat/proto/people.hpp>

#include <span>
#include <unordered_set>

namespace chat::chatd::api {
namespace {

// `people` with `online` from the presence keys (one Redis round trip); nullopt when Redis
// cannot answer.
std::optional<std::vector<proto::profile>> with_presence(redis::client& redis,
                                                         const std::vector<store::person>& people) {
  std::vector<std::int64_t> ids;
  ids.reserve(people.size());
  for (const auto& p : people) ids.push_back(p.id);
  const auto online = store::online_users(redis, ids);
  if (!online) return std::nullopt;
  const std::unordered_set<std::int64_t> on(online->begin(), online->end());
  std::vector<proto::profile> out;
  out.reserve(people.size());
  for (const auto& p : people) out.push_back(profile_of(p, on.contains(p.id)));
  return out;
}

std::optional<std::string> profiles_json(redis::client& redis, const std::vector<store::person>& people) {
  const auto profiles = with_presence(redis, people);
  if (!profiles) return std::nullopt;
  std::string json;
  proto::append_json(std::span<const proto::profile>(*profiles), json);
  return json;
}

http::response people_error(http::status status, std::string_view code, std::string_view message) {
  return http::error_response(status, code, message);
}

// After the change committed: both users' sessions and streams hear of it (best effort).
void tell_both(redis::client& redis, proto::friend_event_kind kind, std::int64_t request_id, std::int64_t from,
               std::int64_t to) {
  const proto::friend_event event{kind, request_id, from, to, common::now_unix_ms()};
  if (!store::publish_friend_event(redis, event)) {
    log::warn("friend event not published", {{"event", proto::to_string(kind)}, {"from", from}, {"to", to}});
  }
}

}  // namespace

void rest_api::update_me(const http::request& req, const http::path_params&, const caller& who,
                         http::responder respond) {
  proto::profile_update update;
  if (auto error = proto::parse_profile_update(req.body(), update)) return respond(bad_request(error));
  run_db_job(pool_, "PATCH /api/users/me", respond,
             [id = who.user_id, update = std::move(update)](store::session& db, store::db_context& ctx) -> job_result {
               auto updated = store::update_profile(db, id, update);
               if (!updated) return failed(updated);
               const auto& user = *updated;
               if (!user) return unauthorized(auth_failure::invalid);
               if (update.nickname) {
                 // The user's live sessions on every node stamp it on what they send next; the
                 // messages stored so far keep the nickname they were sent with.
                 if (!store::publish_nickname_change(ctx.redis, id, user->nickname)) {
                   log::warn("nickname change not published; live sessions keep the old one until they reconnect",
                             {{"user", id}});
                 }
               }
               return http::json_response(http::status::ok, render_me(*user));
             });
}

void rest_api::get_user(const http::request&, const http::path_params& params, const caller&, http::responder respond) {
  const auto id = proto::parse_positive_id(params.get("id"));
  if (!id) return respond(bad_request("the user id must be a positive integer"));
  run_db_job(pool_, "GET /api/users/{id}", respond,
             [id = *id](store::session& db, store::db_context& ctx) -> job_result {
               auto found = store::find_user_by_id(db, id);
               if (!found) return failed(found);
               if (!*found) return not_found("no such user");
               const auto profiles = with_presence(ctx.redis, {store::person_of(**found)});
               if (!profiles) return unavailable("presence store unavailable");
               return http::json_response(http::status::ok, proto::to_json(profiles->front()));
             });
}

void rest_api::search_users(const http::request& req, const http::path_params&, const caller& who,
                            http::responder respond) {
  user_search_query query;
  if (auto error = parse_user_search_query(req.target(), query)) return respond(bad_request(error));
  run_db_job(
      pool_, "GET /api/users/search", respond,
      [this, caller = who.user_id, query = std::move(query)](store::session& db, store::db_context& ctx) -> job_result {
        auto found = store::search_users(db, caller, query.q, query.limit);
        if (!found) return failed(found);
        auto json = profiles_json(ctx.redis, *found);
        if (!json) return unavailable("presence store unavailable");
        return http::json_response(http::status::ok, std::move(*json));
      });
}

// ---- friends ---------------------------------------------------------------------------------

void rest_api::send_friend_request(const http::request& req, const http::path_params&, const caller& who,
                                   http::responder respond) {
  proto::friend_request_create body;
  if (auto error = proto::parse_friend_request_create(req.body(), body)) return respond(bad_request(error));
  if (body.user_id == who.user_id) return respond(bad_request("you cannot send a friend request to yourself"));
  run_db_job(pool_, "POST /api/friends/requests", respond,
             [from = who.user_id, to = body.user_id](store::session& db, store::db_context& ctx) -> job_result {
               auto created = store::create_friend_request(db, from, to);
               if (!created) return failed(created);
               switch (created->outcome) {
                 case store::friend_request_outcome::created: break;
                 case store::friend_request_outcome::no_such_user: return not_found("no such user");
                 case store::friend_request_outcome::already_friends:
                   return people_error(http::status::conflict, "already_friends", "you are friends already");
                 case store::friend_request_outcome::pending: {
                   std::string message = "a friend request between you is pending";
                   if (const auto& r = created->request) {
                     message = r->from_user_id == from
                                   ? "you asked already (request " + std::to_string(r->id) + ")"
                                   : "they asked you already: accept request " + std::to_string(r->id);
                   }
                   return people_error(http::status::conflict, "request_pending", message);
                 }
                 case store::friend_request_outcome::blocked: return blocked_pair();
                 case store::friend_request_outcome::pending_limit:
                   return people_error(http::status::conflict, "pending_limit",
                                       "you have " + std::to_string(proto::max_pending_friend_requests) +
                                           " pending friend requests; cancel some or wait for answers");
               }
               const auto& request = *created->request;
               tell_both(ctx.redis, proto::friend_event_kind::requested, request.id, from, to);
               return http::json_response(http::status::created, proto::to_json(request));
             });
}

void rest_api::list_friend_requests(const http::request& req, const http::path_params&, const caller& who,
                                    http::responder respond) {
  bool incoming = true;
  if (auto error = parse_request_direction(req.target(), incoming)) return respond(bad_request(error));
  run_db_job(pool_, "GET /api/friends/requests", respond,
             [user = who.user_id, incoming](store::session& db, store::db_context&) -> job_result {
               auto found = store::list_friend_requests(db, user, incoming);
               if (!found) return failed(found);
               std::string json;
               proto::append_json(std::span<const proto::friend_request>(*found), json);
               return http::json_response(http::status::ok, std::move(json));
             });
}

void rest_api::accept_friend_request(const http::request&, const http::path_params& params, const caller& who,
                                     http::responder respond) {
  answer_friend_request("POST /api/friends/requests/{id}/accept", store::friend_answer::accept, params, who,
                        std::move(respond));
}

void rest_api::reject_friend_request(const http::request&, const http::path_params& params, const caller& who,
                                     http::responder respond) {
  answer_friend_request("POST /api/friends/requests/{id}/reject", store::friend_answer::reject, params, who,
                        std::move(respond));
}

void rest_api::cancel_friend_request(const http::request&, const http::path_params& params, const caller& who,
                                     http::responder respond) {
  answer_friend_request("DELETE /api/friends/requests/{id}", store::friend_answer::cancel, params, who,
                        std::move(respond));
}

void rest_api::answer_friend_request(std::string_view route, store::friend_answer answer,
                                     const http::path_params& params, const caller& who, http::responder respond) {
  const auto id = proto::parse_positive_id(params.get("id"));
  if (!id) return respond(bad_request("the request id must be a positive integer"));
  run_db_job(
      pool_, route, respond,
      [request_id = *id, caller = who.user_id, answer](store::session& db, store::db_context& ctx) -> job_result {
        auto answered = store::answer_friend_request(db, request_id, caller, answer);
        if (!answered) return failed(answered);
        switch (answered->outcome) {
          case store::friend_answer_outcome::done: break;
          case store::friend_answer_outcome::not_found: return not_found("no such pending friend request");
          case store::friend_answer_outcome::blocked: return blocked_pair();
          case store::friend_answer_outcome::not_yours:
            return forbidden(answer == store::friend_answer::cancel
                                 ? "only the sender can cancel a friend request"
                                 : "only the addressee can accept or reject a friend request");
        }
        const auto& request = *answered->request;
        proto::friend_event_kind kind = proto::friend_event_kind::cancelled;
        switch (answer) {
          case store::friend_answer::accept: kind = proto::friend_event_kind::accepted; break;
          case store::friend_answer::reject: kind = proto::friend_event_kind::rejected; break;
          case store::friend_answer::cancel: kind = proto::friend_event_kind::cancelled; break;
        }
        tell_both(ctx.redis, kind, request.id, request.from_user_id, request.to_user_id);
        if (answer == store::friend_answer::cancel) return http::response{http::status::no_content, 11};
        return http::json_response(http::status::ok, proto::to_json(request));
      });
}

void rest_api::list_friends(const http::request&, const http::path_params&, const caller& who,
                            http::responder respond) {
  run_db_job(pool_, "GET /api/friends", respond,
             [user = who.user_id](store::session& db, store::db_context& ctx) -> job_result {
               auto found = store::list_friends(db, user);
               if (!found) return failed(found);
               auto json = profiles_json(ctx.redis, *found);
               if (!json) return unavailable("presence store unavailable");
               return http::json_response(http::status::ok, std::move(*json));
             });
}

void rest_api::remove_friend(const http::request&, const http::path_params& params, const caller& who,
                             http::responder respond) {
  const auto id = proto::parse_positive_id(params.get("userId"));
  if (!id) return respond(bad_request("the user id must be a positive integer"));
  run_db_job(pool_, "DELETE /api/friends/{userId}", respond,
             [user = who.user_id, other = *id](store::session& db, store::db_context& ctx) -> job_result {
               auto removed = store::remove_friend(db, user, other);
               if (!removed) return failed(removed);
               if (!*removed) return not_found("not friends with this user");
               tell_both(ctx.redis, proto::friend_event_kind::removed, 0, user, other);
               return http::response{http::status::no_content, 11};
             });
}

}  // namespace chat::chatd::api
