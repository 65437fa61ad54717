// GET /api/rooms/{id}/messages, POST /api/rooms/{id}/read, GET /api/rooms/{id}/unread,
// GET /api/rooms/{id}/reads, GET /api/rooms/{id}/members/online
#include "api/db_job.hpp"
#include "api/errors.hpp"
#include "api/query.hpp"
#include "api/render.hpp"
#include "api/rest_api.hpp"
#include "store/history.hpp"
#include "store/presence.hpp"
#include "store/read_state.hpp"
#include "store/rooms.hpp"

#include <chat/common/time.hpp>
#include <chat/log/log.hpp>
#include <chat/proto/rest.hpp>

namespace chat::chatd::api {
namespace {

// Lifetime of an unread-cache entry that the API filled from PostgreSQL; the receipts
// consumer overwrites it whenever the member's read state changes.
constexpr std::chrono::seconds unread_cache_ttl{600};  // as pipeline/unread_cache

}  // namespace

void rest_api::history(const http::request& req, const http::path_params& params, const caller& who,
                       http::responder respond) {
  std::int64_t room_id = 0;
  if (auto error = parse_room_id(params.get("id"), room_id)) return respond(bad_request(error));
  history_query query;
  if (auto error = parse_history_query(req.target(), query)) return respond(bad_request(error));
  run_db_job(pool_, "GET /api/rooms/{id}/messages", respond,
             [room_id, caller = who.user_id, query](store::session& db, store::db_context&) -> job_result {
               auto loaded = store::load_history(db, room_id, caller, query.before, query.size);
               if (!loaded) return failed(loaded);
               const auto& page = *loaded;
               if (page.access != store::room_access::granted) return access_denied(page.access);
               return http::json_response(http::status::ok, render_history(page));
             });
}

void rest_api::mark_read(const http::request& req, const http::path_params& params, const caller& who,
                         http::responder respond) {
  std::int64_t room_id = 0;
  if (auto error = parse_room_id(params.get("id"), room_id)) return respond(bad_request(error));
  proto::mark_read_request body;
  if (auto error = proto::parse_mark_read_request(req.body(), body)) return respond(bad_request(error));
  run_db_job_deferred(
      pool_, "POST /api/rooms/{id}/read", respond,
      [this, room_id, caller = who.user_id, last_read = body.last_read_message_id](
          store::session& db, store::db_context&, http::responder& reply) -> deferred_job_result {
        auto access = store::access_of(db, room_id, caller);
        if (!access) return failed(access);
        if (*access != store::room_access::granted) return access_denied(*access);
        proto::read_receipt receipt;
        receipt.room_id = room_id;
        receipt.user_id = caller;
        receipt.last_read_message_id = last_read;
        receipt.at_ms = common::now_unix_ms();
        // The receipts consumer applies it (forward only) and refreshes the unread cache.
        // 202 once Kafka acknowledged the record; the callback runs on the producer thread
        // and the responder posts the answer to the connection's strand.
        log_.publish_read_receipt(
            receipt, [reply = std::move(reply), room_id, caller, last_read](const publish_result& result) {
              if (result.ok) {
                reply(http::json_response(http::status::accepted, render_read_accepted(room_id, last_read)));
                return;
              }
              log::warn("read receipt not published", {{"room", room_id}, {"user", caller}, {"error", result.error}});
              reply(unavailable(result.overloaded ? "server overloaded, try again" : "message log unavailable"));
            });
        return std::optional<http::response>();
      });
}

void rest_api::unread(const http::request&, const http::path_params& params, const caller& who,
                      http::responder respond) {
  std::int64_t room_id = 0;
  if (auto error = parse_room_id(params.get("id"), room_id)) return respond(bad_request(error));
  // Not run_db_job: a cache hit answers even while PostgreSQL is down.
  auto job = [room_id, caller = who.user_id, respond](store::db_context& ctx) {
    // The cache key exists only for members (the consumer writes it for them, leaving
    // deletes it), so a hit needs no membership query.
    if (const auto cached = store::unread_from_cache(ctx.redis, room_id, caller)) {
      respond(http::json_response(http::status::ok, render_unread(*cached)));
      return;
    }
    if (ctx.db == nullptr) {
      respond(unavailable("database unavailable"));
      return;
    }
    const auto lookup = store::unread_from_db(*ctx.db, room_id, caller);
    if (!lookup) {
      respond(database_failure("GET /api/rooms/{id}/unread", lookup.error()));
    } else if (lookup->access == store::room_access::granted) {
      store::fill_unread_cache(ctx.redis, room_id, caller, lookup->state, unread_cache_ttl);
      respond(http::json_response(http::status::ok, render_unread(lookup->state)));
    } else {
      respond(access_denied(lookup->access));
    }
  };
  if (!pool_.submit(std::move(job))) respond(unavailable("server overloaded, try again"));
}

void rest_api::reads(const http::request&, const http::path_params& params, const caller& who,
                     http::responder respond) {
  std::int64_t room_id = 0;
  if (auto error = parse_room_id(params.get("id"), room_id)) return respond(bad_request(error));
  run_db_job(pool_, "GET /api/rooms/{id}/reads", respond,
             [room_id, caller = who.user_id](store::session& db, store::db_context&) -> job_result {
               auto found = store::member_reads(db, room_id, caller);
               if (!found) return failed(found);
               if (found->access != store::room_access::granted) return access_denied(found->access);
               return http::json_response(http::status::ok, render_reads(found->reads));
             });
}

void rest_api::online(const http::request&, const http::path_params& params, const caller& who,
                      http::responder respond) {
  std::int64_t room_id = 0;
  if (auto error = parse_room_id(params.get("id"), room_id)) return respond(bad_request(error));
  run_db_job(pool_, "GET /api/rooms/{id}/members/online", respond,
             [room_id, caller = who.user_id](store::session& db, store::db_context& ctx) -> job_result {
               auto found = store::member_ids(db, room_id, caller);
               if (!found) return failed(found);
               const auto& members = *found;
               if (members.access != store::room_access::granted) return access_denied(members.access);
               const auto online = store::online_users(ctx.redis, members.user_ids);
               if (!online) return unavailable("presence store unavailable");
               return http::json_response(http::status::ok, render_ids(*online));
             });
}

}  // namespace chat::chatd::api
