// POST /api/rooms/direct, POST /api/rooms/group, GET /api/rooms, GET /api/rooms/{id},
// POST /api/rooms/{id}/members, DELETE /api/rooms/{id}/members/me, and the room's administration
// (SPEC §16): PATCH and DELETE /api/rooms/{id}, DELETE /api/rooms/{id}/members/{userId},
// PUT /api/rooms/{id}/members/{userId}/role.
#include "api/db_job.hpp"
#include "api/errors.hpp"
#include "api/query.hpp"
#include "api/render.hpp"
#include "api/rest_api.hpp"
#include "store/read_state.hpp"
#include "store/room_admin.hpp"
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

// After the commit: every node's sessions of `users` forget their cached membership of the room
// (chat:membership), so their next SEND is checked against the store. Best effort.
void revoke_membership(store::db_context& ctx, const std::vector<std::int64_t>& users, std::int64_t room_id) {
  if (!store::publish_membership_revoked(ctx.redis, room_id, users)) {
    log::warn(
        "membership revocation not published (Redis): sessions trust their cached membership until it expires",
        {{"room", room_id}, {"users", static_cast<std::int64_t>(users.size())}, {"error", ctx.redis.last_error()}});
  }
}

// Everything a membership that ended leaves outside PostgreSQL: the unread cache keys, the room
// feeds (room.removed), the sessions' cached memberships.
void membership_ended(store::db_context& ctx, const std::vector<std::int64_t>& users, std::int64_t room_id) {
  for (const auto user : users) store::drop_unread_cache(ctx.redis, room_id, user);
  announce_membership(ctx, users, room_id, false);
  revoke_membership(ctx, users, room_id);
}

// The answer of an administration request that stops before changing anything; nullopt when it
// went on (done or unchanged).
std::optional<http::response> admin_stopped(const store::admin_outcome& outcome) {
  using status = store::admin_outcome::status;
  switch (outcome.st) {
    case status::done:
    case status::unchanged: return std::nullopt;
    case status::no_such_room: return access_denied(store::room_access::no_such_room);
    case status::not_a_member: return access_denied(store::room_access::not_a_member);
    case status::refused:
      return http::error_response(static_cast<http::status>(outcome.refusal.status), outcome.refusal.code,
                                  outcome.refusal.message);
  }
  return internal_error();
}

http::response room_no_content() {
  http::response res{http::status::no_content, 11};
  return res;
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
  run_db_job_deferred(
      pool_, "POST /api/rooms/{id}/members", respond,
      [this, room_id, caller = who.user_id, body = std::move(body)](store::session& db, store::db_context& ctx,
                                                                    http::responder& reply) -> deferred_job_result {
        using status = store::add_members_outcome::status;
        auto changed = store::add_members(db, room_id, caller, body.user_ids);
        if (!changed) return failed(changed);
        const auto& outcome = *changed;
        switch (outcome.st) {
          case status::added: {
            auto answer = http::json_response(http::status::ok, render_room_after_invite(outcome.room, outcome.added));
            if (outcome.added.empty()) return answer;
            // Committed: a member.joined for each new member (existing members were skipped).
            std::vector<proto::chat_message> events;
            std::vector<std::int64_t> added;
            for (const auto& m : outcome.added) {
              log::info("member added", {{"room", room_id}, {"user", m.user_id}, {"by", caller}});
              events.push_back(
                  proto::membership_notice(room_id, m.user_id, m.nickname, proto::membership_change::joined));
              added.push_back(m.user_id);
            }
            announce_membership(ctx, added, room_id, true);
            publish_room_events(
                "POST /api/rooms/{id}/members", std::move(events),
                [reply = std::move(reply), answer = std::move(answer)]() mutable { reply(std::move(answer)); });
            return std::optional<http::response>();
          }
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
  static constexpr std::string_view route = "DELETE /api/rooms/{id}/members/me";
  run_db_job_deferred(pool_, route, respond,
                      [this, room_id, caller = who.user_id](store::session& db, store::db_context& ctx,
                                                            http::responder& reply) -> deferred_job_result {
                        using status = store::leave_outcome::status;
                        auto left = store::leave_room(db, room_id, caller);
                        if (!left) return failed(left);
                        const auto& outcome = *left;
                        switch (outcome.st) {
                          case status::left: {
                            std::vector<proto::chat_message> events;
                            if (outcome.room_deleted) {
                              // The last member: the room and its history are gone (SPEC §16).
                              log::info("room deleted: its last member left", {{"room", room_id}, {"user", caller}});
                              auto event = proto::room_deleted_notice(room_id, caller, outcome.nickname);
                              event.content = outcome.nickname + " left; the room was deleted";
                              events.push_back(std::move(event));
                            } else {
                              log::info("member left", {{"room", room_id}, {"user", caller}});
                              events.push_back(proto::membership_notice(room_id, caller, outcome.nickname,
                                                                        proto::membership_change::left));
                              if (outcome.new_owner) {
                                log::info("room ownership handed on",
                                          {{"room", room_id}, {"from", caller}, {"to", outcome.new_owner->user_id}});
                                events.push_back(proto::member_role_notice(
                                    room_id, caller, outcome.nickname, outcome.new_owner->user_id,
                                    outcome.new_owner->nickname, proto::room_role::owner));
                              }
                            }
                            membership_ended(ctx, {caller}, room_id);
                            publish_room_events(route, std::move(events),
                                                [reply = std::move(reply)]() mutable { reply(room_no_content()); });
                            return std::optional<http::response>();
                          }
                          case status::no_such_room: return access_denied(store::room_access::no_such_room);
                          case status::not_a_member: return access_denied(store::room_access::not_a_member);
                          case status::direct_room: return bad_request("a direct room cannot be left");
                        }
                        return internal_error();
                      });
}

void rest_api::update_room(const http::request& req, const http::path_params& params, const caller& who,
                           http::responder respond) {
  std::int64_t room_id = 0;
  if (auto error = parse_room_id(params.get("id"), room_id)) return respond(bad_request(error));
  proto::update_room_request body;
  if (auto error = proto::parse_update_room_request(req.body(), body)) return respond(bad_request(error));
  static constexpr std::string_view route = "PATCH /api/rooms/{id}";
  run_db_job_deferred(
      pool_, route, respond,
      [this, room_id, caller = who.user_id, body = std::move(body)](store::session& db, store::db_context&,
                                                                    http::responder& reply) -> deferred_job_result {
        auto updated = store::update_room(db, room_id, caller, body.name, body.notice);
        if (!updated) return failed(updated);
        if (auto answer = admin_stopped(*updated)) return answer;
        auto loaded = store::load_room(db, room_id, caller);
        if (!loaded) return failed(loaded);
        if (loaded->access != store::room_access::granted) return access_denied(loaded->access);
        auto answer = http::json_response(http::status::ok, render_room(loaded->room));
        if (updated->st == store::admin_outcome::status::unchanged) return answer;
        log::info("room updated", {{"room", room_id}, {"user", caller}});
        std::vector<proto::chat_message> events;
        events.push_back(
            proto::room_updated_notice(room_id, caller, updated->actor_nickname, updated->name, updated->notice));
        publish_room_events(route, std::move(events), [reply = std::move(reply), answer = std::move(answer)]() mutable {
          reply(std::move(answer));
        });
        return std::optional<http::response>();
      });
}

void rest_api::set_member_role(const http::request& req, const http::path_params& params, const caller& who,
                               http::responder respond) {
  std::int64_t room_id = 0;
  std::int64_t user_id = 0;
  if (auto error = parse_room_id(params.get("id"), room_id)) return respond(bad_request(error));
  if (auto error = parse_user_id(params.get("userId"), user_id)) return respond(bad_request(error));
  proto::role_request body;
  if (auto error = proto::parse_role_request(req.body(), body)) return respond(bad_request(error));
  static constexpr std::string_view route = "PUT /api/rooms/{id}/members/{userId}/role";
  run_db_job_deferred(
      pool_, route, respond,
      [this, room_id, user_id, caller = who.user_id, role = body.role](store::session& db, store::db_context&,
                                                                       http::responder& reply) -> deferred_job_result {
        auto changed = store::set_member_role(db, room_id, caller, user_id, role);
        if (!changed) return failed(changed);
        if (auto answer = admin_stopped(*changed)) return answer;
        auto loaded = store::load_room(db, room_id, caller);
        if (!loaded) return failed(loaded);
        if (loaded->access != store::room_access::granted) return access_denied(loaded->access);
        auto answer = http::json_response(http::status::ok, render_room(loaded->room));
        std::vector<proto::chat_message> events;
        for (const auto& c : changed->changes) {
          log::info("member role changed",
                    {{"room", room_id}, {"user", c.user_id}, {"role", proto::to_string(c.role)}, {"by", caller}});
          events.push_back(
              proto::member_role_notice(room_id, caller, changed->actor_nickname, c.user_id, c.nickname, c.role));
        }
        publish_room_events(route, std::move(events), [reply = std::move(reply), answer = std::move(answer)]() mutable {
          reply(std::move(answer));
        });
        return std::optional<http::response>();
      });
}

void rest_api::remove_member(const http::request&, const http::path_params& params, const caller& who,
                             http::responder respond) {
  std::int64_t room_id = 0;
  std::int64_t user_id = 0;
  if (auto error = parse_room_id(params.get("id"), room_id)) return respond(bad_request(error));
  if (auto error = parse_user_id(params.get("userId"), user_id)) return respond(bad_request(error));
  static constexpr std::string_view route = "DELETE /api/rooms/{id}/members/{userId}";
  run_db_job_deferred(pool_, route, respond,
                      [this, room_id, user_id, caller = who.user_id](store::session& db, store::db_context& ctx,
                                                                     http::responder& reply) -> deferred_job_result {
                        auto removed = store::remove_member(db, room_id, caller, user_id);
                        if (!removed) return failed(removed);
                        if (auto answer = admin_stopped(*removed)) return answer;
                        log::info("member removed", {{"room", room_id}, {"user", user_id}, {"by", caller}});
                        membership_ended(ctx, {user_id}, room_id);
                        std::vector<proto::chat_message> events;
                        events.push_back(proto::member_removed_notice(room_id, caller, removed->actor_nickname, user_id,
                                                                      removed->nickname));
                        publish_room_events(route, std::move(events),
                                            [reply = std::move(reply)]() mutable { reply(room_no_content()); });
                        return std::optional<http::response>();
                      });
}

void rest_api::delete_room(const http::request&, const http::path_params& params, const caller& who,
                           http::responder respond) {
  std::int64_t room_id = 0;
  if (auto error = parse_room_id(params.get("id"), room_id)) return respond(bad_request(error));
  static constexpr std::string_view route = "DELETE /api/rooms/{id}";
  run_db_job_deferred(pool_, route, respond,
                      [this, room_id, caller = who.user_id](store::session& db, store::db_context& ctx,
                                                            http::responder& reply) -> deferred_job_result {
                        auto deleted = store::delete_room(db, room_id, caller);
                        if (!deleted) return failed(deleted);
                        if (auto answer = admin_stopped(*deleted)) return answer;
                        log::info("room deleted", {{"room", room_id},
                                                   {"user", caller},
                                                   {"members", static_cast<std::int64_t>(deleted->members.size())}});
                        membership_ended(ctx, deleted->members, room_id);
                        std::vector<proto::chat_message> events;
                        events.push_back(proto::room_deleted_notice(room_id, caller, deleted->actor_nickname));
                        publish_room_events(route, std::move(events),
                                            [reply = std::move(reply)]() mutable { reply(room_no_content()); });
                        return std::optional<http::response>();
                      });
}

}  // namespace chat::chatd::api
