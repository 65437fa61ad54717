#pragma once
// Running a request's database work on the db_pool (never on an I/O thread) and answering.
// Internal to api/.
#include "api/errors.hpp"
#include "http/types.hpp"
#include "store/db_pool.hpp"
#include "store/error.hpp"

#include <chat/log/log.hpp>

#include <exception>
#include <optional>
#include <string_view>
#include <utility>

namespace chat::chatd::api {

// What database work returns: the answer, or the store error that stopped it (answered by
// database_failure()).
using job_result = store::result<http::response>;
using deferred_job_result = store::result<std::optional<http::response>>;

// Hands a failed store call's error on as the work's result: `return failed(r);`.
template <class T>
chat::unexpected<store::error> failed(store::result<T>& r) {
  return chat::unexpected(std::move(r.error()));
}

namespace detail {

// A throw out of `work` is a bug (the store reports database failures as results), but the
// client still gets an answer: 500, logged with `route`.
inline http::response work_threw(std::string_view route) noexcept {
  try {
    try {
      throw;
    } catch (const std::exception& e) {
      log::error("request failed", {{"route", route}, {"error", e.what()}});
    } catch (...) {
      log::error("request failed", {{"route", route}, {"error", "unknown exception"}});
    }
    return internal_error();
  } catch (...) {
    http::response res{http::status::internal_server_error, 11};  // std::bad_alloc: a bare 500
    return res;
  }
}

}  // namespace detail

// Runs `work(store::session&, store::db_context&) -> job_result` on a pool worker and sends
// what it returns. Answers 503 itself when the pool's queue is full or PostgreSQL is
// unreachable; a store error becomes database_failure(route). `route` must be a string
// with static storage (it is logged from the worker).
template <class Work>
void run_db_job(store::db_pool& pool, std::string_view route, http::responder respond, Work work) {
  auto job = [route, respond, work = std::move(work)](store::db_context& ctx) mutable {
    if (ctx.db == nullptr) {
      respond(unavailable("database unavailable"));
      return;
    }
    http::response res;
    try {
      job_result r = work(*ctx.db, ctx);
      res = r ? std::move(*r) : database_failure(route, r.error());
    } catch (...) {
      res = detail::work_threw(route);
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
    if (ctx.db == nullptr) {
      respond(unavailable("database unavailable"));
      return;
    }
    std::optional<http::response> res;
    try {
      deferred_job_result r = work(*ctx.db, ctx, respond);
      if (r) {
        res = std::move(*r);
      } else {
        res = database_failure(route, r.error());
      }
    } catch (...) {
      res = detail::work_threw(route);
    }
    if (res) respond(std::move(*res));
  };
  if (!pool.submit(std::move(job))) respond(unavailable("server overloaded, try again"));
}

}  // namespace chat::chatd::api
