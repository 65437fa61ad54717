#pragma once
// Running a request's database work on the db_pool (never on an I/O thread) and answering.
// Internal to api/.
#include "api/errors.hpp"
#include "http/types.hpp"
#include "store/db_pool.hpp"

#include <pqxx/pqxx>

#include <string_view>
#include <utility>

namespace chat::chatd::api {

// Runs `work(pqxx::connection&, store::db_context&) -> http::response` on a pool worker
// and sends what it returns. Answers 503 itself when the pool's queue is full or PostgreSQL
// is unreachable; exceptions from `work` become database_failure(route). `route` must be a
// string with static storage (it is logged from the worker).
template <class Work>
void run_db_job(store::db_pool& pool, std::string_view route, http::responder respond, Work work) {
  auto job = [route, respond, work = std::move(work)](store::db_context& ctx) mutable {
    if (ctx.pg == nullptr) {
      respond(unavailable("database unavailable"));
      return;
    }
    http::response res;
    try {
      res = work(*ctx.pg, ctx);
    } catch (...) {
      res = database_failure(route);
    }
    respond(std::move(res));
  };
  if (!pool.submit(std::move(job))) respond(unavailable("server overloaded, try again"));
}

// As run_db_job, for work that answers later (e.g. after Kafka acknowledged): `work` gets
// the responder and returns std::nullopt when it took over answering, or a response to
// send now. It must not throw after it handed the responder on.
template <class Work>
void run_db_job_deferred(store::db_pool& pool, std::string_view route, http::responder respond, Work work) {
  auto job = [route, respond, work = std::move(work)](store::db_context& ctx) mutable {
    if (ctx.pg == nullptr) {
      respond(unavailable("database unavailable"));
      return;
    }
    std::optional<http::response> res;
    try {
      res = work(*ctx.pg, ctx, respond);
    } catch (...) {
      res = database_failure(route);
    }
    if (res) respond(std::move(*res));
  };
  if (!pool.submit(std::move(job))) respond(unavailable("server overloaded, try again"));
}

}  // namespace chat::chatd::api
