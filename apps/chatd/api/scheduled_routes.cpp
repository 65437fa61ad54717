// POST /api/rooms/{id}/scheduled, GET /api/rooms/{id}/scheduled, DELETE
// /api/rooms/{id}/scheduled/{sid} (SPEC §16, docs/rest.md "Scheduled messages"). The routes only
// write scheduled_messages (nothing reaches Kafka here); the scheduler role sends each occurrence
// when it comes due (scheduler/scheduler.hpp).
#include "api/db_job.hpp"
#include "api/errors.hpp"
#include "api/query.hpp"
#include "api/rest_api.hpp"
#include "store/scheduled.hpp"

#include <chat/common/time.hpp>
#include <chat/log/log.hpp>
#include <chat/proto/ids.hpp>
#include <chat/proto/scheduled.hpp>

#include <string>

namespace chat::chatd::api {
namespace {

// The precise codes of the message lifecycle routes (docs/rest.md "Errors").
http::response schedule_room_not_found() {
  return http::error_response(http::status::not_found, "room_not_found", "no such room");
}
http::response schedule_not_a_member() {
  return http::error_response(http::status::forbidden, "not_a_member", "you are not a member of this room");
}

std::string schedule_json(const proto::scheduled_message& s) {
  std::string body;
  proto::append_json(s, body);
  return body;
}

}  // namespace

void rest_api::create_scheduled(const http::request& req, const http::path_params& params, const caller& who,
                                http::responder respond) {
  std::int64_t room_id = 0;
  if (auto error = parse_room_id(params.get("id"), room_id)) return respond(bad_request(error));
  proto::schedule_request body;
  if (auto error = proto::parse_schedule_request(req.body(), body, max_content_chars_)) {
    return respond(bad_request(error));
  }
  if (auto error = proto::check_schedule_time(body.send_at_ms, common::now_unix_ms())) {
    return respond(bad_request(error));
  }
  run_db_job(
      pool_, "POST /api/rooms/{id}/scheduled", respond,
      [room_id, caller = who.user_id, body = std::move(body)](store::session& db, store::db_context&) -> job_result {
        auto created = store::create_schedule(db, room_id, caller, body);
        if (!created) return failed(created);
        switch (created->st) {
          case store::schedule_created::status::created:
            log::info("message scheduled", {{"schedule", created->schedule.id},
                                            {"room", room_id},
                                            {"user", caller},
                                            {"repeat", proto::to_string(body.repeat)}});
            return http::json_response(http::status::created, schedule_json(created->schedule));
          case store::schedule_created::status::no_such_room: return schedule_room_not_found();
          case store::schedule_created::status::not_a_member: return schedule_not_a_member();
          case store::schedule_created::status::blocked: return blocked_pair();
          case store::schedule_created::status::limit_reached:
            return http::error_response(http::status::conflict, "schedule_limit",
                                        "you have " + std::to_string(proto::max_active_schedules_per_user) +
                                            " scheduled messages already: cancel one first");
        }
        return internal_error();
      });
}

void rest_api::list_scheduled(const http::request&, const http::path_params& params, const caller& who,
                              http::responder respond) {
  std::int64_t room_id = 0;
  if (auto error = parse_room_id(params.get("id"), room_id)) return respond(bad_request(error));
  run_db_job(pool_, "GET /api/rooms/{id}/scheduled", respond,
             [room_id, caller = who.user_id](store::session& db, store::db_context&) -> job_result {
               auto found = store::list_schedules(db, room_id, caller);
               if (!found) return failed(found);
               switch (found->st) {
                 case store::schedule_list::status::found: break;
                 case store::schedule_list::status::no_such_room: return schedule_room_not_found();
                 case store::schedule_list::status::not_a_member: return schedule_not_a_member();
               }
               std::string body;
               proto::append_json(std::span<const proto::scheduled_message>(found->schedules), body);
               return http::json_response(http::status::ok, std::move(body));
             });
}

void rest_api::delete_scheduled(const http::request&, const http::path_params& params, const caller& who,
                                http::responder respond) {
  std::int64_t room_id = 0;
  if (auto error = parse_room_id(params.get("id"), room_id)) return respond(bad_request(error));
  const auto schedule_id = proto::parse_positive_id(params.get("sid"));
  if (!schedule_id) return respond(bad_request("the schedule id must be a positive integer"));
  run_db_job(pool_, "DELETE /api/rooms/{id}/scheduled/{sid}", respond,
             [room_id, sid = *schedule_id, caller = who.user_id](store::session& db, store::db_context&) -> job_result {
               auto outcome = store::cancel_schedule(db, room_id, caller, sid);
               if (!outcome) return failed(outcome);
               switch (*outcome) {
                 case store::schedule_cancel_outcome::cancelled: {
                   log::info("scheduled message cancelled by its author",
                             {{"schedule", sid}, {"room", room_id}, {"user", caller}});
                   http::response res{http::status::no_content, 11};
                   return res;
                 }
                 case store::schedule_cancel_outcome::no_such_room: return schedule_room_not_found();
                 case store::schedule_cancel_outcome::not_a_member: return schedule_not_a_member();
                 case store::schedule_cancel_outcome::not_found:
                   return http::error_response(http::status::not_found, "schedule_not_found",
                                               "no such scheduled message in this room (sent, cancelled or never "
                                               "there)");
                 case store::schedule_cancel_outcome::not_author:
                   return http::error_response(http::status::forbidden, "not_allowed",
                                               "only its author may cancel a scheduled message");
                 case store::schedule_cancel_outcome::busy: {
                   auto res = http::error_response(http::status::conflict, "schedule_busy",
                                                   "the scheduled message is being sent right now: try again");
                   res.set(http::bhttp::field::retry_after, "1");
                   return res;
                 }
               }
               return internal_error();
             });
}

}  // namespace chat::chatd::api
