// PUT /api/blocks/{userId}, DELETE /api/blocks/{userId}, GET /api/blocks (SPEC §15, docs/rest.md
// "Blocks"). Written to PostgreSQL directly (per-user state no one else sees); after the commit
// the change goes to every node on chat:blocks, whose sessions of both users apply it
// (docs/stomp.md "Blocks").
#include "api/db_job.hpp"
#include "api/errors.hpp"
#include "api/query.hpp"
#include "api/rest_api.hpp"
#include "store/blocks.hpp"

#include <chat/log/log.hpp>
#include <chat/proto/blocks.hpp>

#include <string>

namespace chat::chatd::api {
namespace {

http::response no_content() {
  http::response res{http::status::no_content, 11};
  return res;
}

// After the commit; best effort (store::publish_block_change). Also for a PUT or DELETE that
// changed nothing: a retry after a lost announcement announces again.
void announce(store::db_context& ctx, const proto::block_change& change) {
  if (!store::publish_block_change(ctx.redis, change)) {
    log::warn("block change not published (Redis): live sessions apply it at their next CONNECT",
              {{"user", change.blocker_id}, {"blocked", change.blocked_id}, {"error", ctx.redis.last_error()}});
  }
}

}  // namespace

void rest_api::put_block(const http::request&, const http::path_params& params, const caller& who,
                         http::responder respond) {
  std::int64_t target = 0;
  if (auto error = parse_user_id(params.get("userId"), target)) return respond(bad_request(error));
  if (target == who.user_id) return respond(bad_request("you cannot block yourself"));
  run_db_job(pool_, "PUT /api/blocks/{userId}", respond,
             [target, caller = who.user_id](store::session& db, store::db_context& ctx) -> job_result {
               auto outcome = store::block_user(db, caller, target);
               if (!outcome) return failed(outcome);
               switch (*outcome) {
                 case store::block_outcome::blocked:
                   log::info("user blocked", {{"user", caller}, {"blocked", target}});
                   [[fallthrough]];
                 case store::block_outcome::already_blocked:
                   announce(ctx, proto::block_change{caller, target, true});
                   return no_content();
                 case store::block_outcome::no_such_user: return not_found("no such user");
                 case store::block_outcome::limit_reached:
                   return http::error_response(http::status::conflict, codes::block_limit,
                                               "you block " + std::to_string(proto::max_blocks_per_user) +
                                                   " users already: unblock someone first");
               }
               return internal_error();
             });
}

void rest_api::delete_block(const http::request&, const http::path_params& params, const caller& who,
                            http::responder respond) {
  std::int64_t target = 0;
  if (auto error = parse_user_id(params.get("userId"), target)) return respond(bad_request(error));
  if (target == who.user_id) return respond(bad_request("you cannot block (or unblock) yourself"));
  run_db_job(pool_, "DELETE /api/blocks/{userId}", respond,
             [target, caller = who.user_id](store::session& db, store::db_context& ctx) -> job_result {
               auto removed = store::unblock_user(db, caller, target);
               if (!removed) return failed(removed);
               if (*removed) log::info("user unblocked", {{"user", caller}, {"blocked", target}});
               announce(ctx, proto::block_change{caller, target, false});
               return no_content();
             });
}

void rest_api::list_blocks(const http::request&, const http::path_params&, const caller& who, http::responder respond) {
  run_db_job(pool_, "GET /api/blocks", respond,
             [caller = who.user_id](store::session& db, store::db_context&) -> job_result {
               auto blocks = store::list_blocks(db, caller);
               if (!blocks) return failed(blocks);
               std::string body;
               proto::append_json(std::span<const proto::blocked_user>(*blocks), body);
               return http::json_response(http::status::ok, std::move(body));
             });
}

}  // namespace chat::chatd::api
