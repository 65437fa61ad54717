// POST /api/rooms/direct, POST /api/rooms/group, GET /api/rooms, GET /api/rooms/{id},
// POST /api/rooms/{id}/members, DELETE /api/rooms/{id}/members/me
#include "api/db_job.hpp"
#include "api/errors.hpp"
#include "api/query.hpp"
#include "api/render.hpp"
#include "api/rest_api.hpp"
#include "store/read_state.hpp"
#include "store/rooms.hpp"
#include "store/user_events.hpp"

#include <chat/log/log.hpp>
#include <chat/proto/rest.hpp>

namespace chat::chatd::api {
namespace {

std::string id_list(const std::vector<std::int64_t>& ids) {
  std::string out;
  for (std::size_t i = 0; i < ids.size() && i < 10; ++i) {
    if (i != 0) out += ", ";
    out += std::to_string(ids[i]);
  }
  if (ids.size() > 10) out += ", …";
  return out;
}

http::response unknown_users(const std::vector<std::int64_t>& ids) {
  return not_found("no such user: " + id_list(ids));
}

// After the commit: the users' room feeds on every node (room.added / room.removed). Best effort.
void announce_membership(store::db_context& ctx, const std::vector<std::int64_t>& users, std::int64_t room_id,
                         bool added) {
  if (!store::publish_room_membership(ctx.redis, users, room_id, added)) {
    log::warn(
        "room membership event not published (Redis): room feeds show it at their next load",
        {{"room", room_id}, {"users", static_cast<std::int64_t>(users.size())}, {"error", ctx.redis.last_error()}});
  }
}

std::vector<std::int64_t> member_ids_of(const store::room_detail& room) {
  std::vector<std::int64_t> out;
  out.reserve(room.members.size());
  for (const auto& m : room.members) out.push_back(m.user_id);
  return out;
}

}  // namespace

void rest_api::open_direct(const http::request& req, const http::path_params&, const caller& who,
                           http::responder respond) {
  proto::direct_room_request body;
  if (auto error = proto::parse_direct_room_request(req.body(), body)) return respond(bad_request(error));
  if (body.target_user_id == who.user_id) return respond(bad_request("cannot open a direct room with yourself"));
  run_db_job(pool_, "POST /api/rooms/direct", respond,
             [this, caller = who.user_id, target = body.target_user_id](store::session& db,
                                                                        store::db_context& ctx) -> job_result {
               using status = store::direct_room_outcome::status;
               auto opened = store::open_direct_room(db, caller, target);
               if (!opened) return failed(opened);
               const auto& outcome = *opened;
               switch (outcome.st) {
                 case status::created:
                   log::info("direct room created", {{"room", outcome.room.id}, {"user", caller}});
                   if (room_created_) room_created_();
                   announce_membership(ctx, {caller, target}, outcome.room.id, true);
                   return http::json_response(http::status::created, render_room(outcome.room));
                 case status::existing: return http::json_response(http::status::ok, render_room(outcome.room));
                 case status::no_such_caller: return unauthorized(auth_failure::invalid);
                 case status::no_such_target: return not_found("no such user");
                 case status::blocked: return blocked_pair();
               }
               return internal_error();
             });
}

void rest_api::create_group(const http::request& req, const http::path_params&, const caller& who,
                            http::responder respond) {
  proto::group_room_request body;
  if (auto error = proto::parse_group_room_request(req.body(), body)) return respond(bad_request(error));
  run_db_job(
      pool_, "POST /api/rooms/group", respond,
      [this, caller = who.user_id, body = std::move(body)](store::session& db, store::db_context& ctx) -> job_result {
        using status = store::group_room_outcome::status;
        auto created = store::create_group_room(db, caller, body.name, body.member_ids);
        if (!created) return failed(created);
        const auto& outcome = *created;
        switch (outcome.st) {
          case status::created:
            log::info("group room created", {{"room", outcome.room.id}, {"user", caller}});
            if (room_created_) room_created_();
            announce_membership(ctx, member_ids_of(outcome.room), outcome.room.id, true);
            return http::json_response(http::status::created, render_room(outcome.room));
          case status::no_such_caller: return unauthorized(auth_failure::invalid);
          case status::unknown_users: return unknown_users(outcome.unknown);
        }
        return internal_error();
      });
}

void rest_api::list_rooms(const http::request&, const http::path_params&, const caller& who, http::responder respond) {
  run_db_job(pool_, "GET /api/rooms", respond,
             [caller = who.user_id](store::session& db, store::db_context&) -> job_result {
               auto rooms = store::list_rooms(db, caller);
               if (!rooms) return failed(rooms);
               return http::json_response(http::status::ok, render_room_list(*rooms));
             });
}

void rest_api::room_stream(const http::request& req, const http::path_params& params, const caller& who,
                           http::responder respond) {
  if (!room_stream_) {
    return respond(http::error_response(http::status::service_unavailable, "unavailable",
                                        "the room list stream needs a node with the gateway role"));
  }
  room_stream_(tokens::token_ref{who.user_id, who.token_id, who.session_id, who.issued_at}, req["Last-Event-ID"],
               params.stream(), respond);
}

void rest_api::room_detail(const http::request&, const http::path_params& params, const caller& who,
                           http::responder respond) {
  std::int64_t room_id = 0;
  if (auto error = parse_room_id(params.get("id"), room_id)) return respond(bad_request(error));
  run_db_job(pool_, "GET /api/rooms/{id}", respond,
             [room_id, caller = who.user_id](store::session& db, store::db_context&) -> job_result {
               auto loaded = store::load_room(db, room_id, caller);
               if (!loaded) return failed(loaded);
               const auto& outcome = *loaded;
               if (outcome.access != store::room_access::granted) return access_denied(outcome.access);
               return http::json_response(http::status::ok, render_room(outcome.room));
             });
}

void rest_api::invite(const http::request& req, const http::path_params& params, const caller& who,
                      http::responder respond) {
  std::int64_t room_id = 0;
  if (auto error = parse_room_id(params.get("id"), room_id)) return respond(bad_request(error));
  proto::add_members_request body;
  if (auto error = proto::parse_add_members_request(req.body(), body)) return respond(bad_request(error));
  run_db_job(pool_, "POST /api/rooms/{id}/members", respond,
             [this, room_id, caller = who.user_id, body = std::move(body)](store::session& db,
                                                                           store::db_context& ctx) -> job_result {
               using status = store::add_members_outcome::status;
               auto changed = store::add_members(db, room_id, caller, body.user_ids);
               if (!changed) return failed(changed);
               const auto& outcome = *changed;
               switch (outcome.st) {
                 case status::added:
                   // Committed: announce each new member. Existing members were skipped.
                   for (const auto& m : outcome.added) {
                     log::info("member added", {{"room", room_id}, {"user", m.user_id}, {"by", caller}});
                     publish_system_message(room_id, m.user_id, m.nickname, proto::membership_change::joined);
                   }
                   if (!outcome.added.empty()) {
                     std::vector<std::int64_t> added;
                     for (const auto& m : outcome.added) added.push_back(m.user_id);
                     announce_membership(ctx, added, room_id, true);
                   }
                   return http::json_response(http::status::ok, render_room_after_invite(outcome.room, outcome.added));
                 case status::no_such_room: return access_denied(store::room_access::no_such_room);
                 case status::not_a_member: return access_denied(store::room_access::not_a_member);
                 case status::direct_room: return bad_request("members cannot be added to a direct room");
                 case status::unknown_users: return unknown_users(outcome.unknown);
               }
               return internal_error();
             });
}

void rest_api::leave(const http::request&, const http::path_params& params, const caller& who,
                     http::responder respond) {
  std::int64_t room_id = 0;
  if (auto error = parse_room_id(params.get("id"), room_id)) return respond(bad_request(error));
  run_db_job(pool_, "DELETE /api/rooms/{id}/members/me", respond,
             [this, room_id, caller = who.user_id](store::session& db, store::db_context& ctx) -> job_result {
               using status = store::leave_outcome::status;
               auto left = store::leave_room(db, room_id, caller);
               if (!left) return failed(left);
               const auto& outcome = *left;
               switch (outcome.st) {
                 case status::left: {
                   log::info("member left", {{"room", room_id}, {"user", caller}});
                   store::drop_unread_cache(ctx.redis, room_id, caller);
                   publish_system_message(room_id, caller, outcome.nickname, proto::membership_change::left);
                   announce_membership(ctx, {caller}, room_id, false);
                   http::response res{http::status::no_content, 11};
                   return res;
                 }
                 case status::no_such_room: return access_denied(store::room_access::no_such_room);
                 case status::not_a_member: return access_denied(store::room_access::not_a_member);
                 case status::direct_room: return bad_request("a direct room cannot be left");
               }
               return internal_error();
             });
}

}  // namespace chat::chatd::api
