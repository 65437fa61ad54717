#include "api/errors.hpp"

#include <chat/log/log.hpp>

#include <pqxx/pqxx>

namespace chat::chatd::api {

http::response bad_request(const proto::validation_error& error) {
  return http::error_response(http::status::bad_request, error.wire_code(), error.message);
}

http::response bad_request(std::string_view message) {
  return http::error_response(http::status::bad_request, proto::validation_error_code, message);
}

http::response forbidden(std::string_view message) {
  return http::error_response(http::status::forbidden, codes::forbidden, message);
}

http::response not_found(std::string_view message) {
  return http::error_response(http::status::not_found, codes::not_found, message);
}

http::response conflict(std::string_view message) {
  return http::error_response(http::status::conflict, codes::conflict, message);
}

http::response unavailable(std::string_view message) {
  auto res = http::error_response(http::status::service_unavailable, codes::unavailable, message);
  res.set(http::bhttp::field::retry_after, "1");
  return res;
}

http::response internal_error() {
  return http::error_response(http::status::internal_server_error, codes::internal, "internal error");
}

http::response access_denied(store::room_access access) {
  switch (access) {
    case store::room_access::no_such_room:
      return not_found("no such room");
    case store::room_access::not_a_member:
      return forbidden();
    case store::room_access::granted:
      break;
  }
  return internal_error();
}

namespace {

bool starts_with(const std::string& s, std::string_view prefix) { return s.compare(0, prefix.size(), prefix) == 0; }

}  // namespace

http::response database_failure(std::string_view route) noexcept {
  try {
    try {
      throw;
    } catch (const pqxx::broken_connection& e) {
      log::warn("database connection lost", {{"route", route}, {"error", e.what()}});
      return unavailable("database unavailable");
    } catch (const pqxx::in_doubt_error& e) {
      log::warn("database commit outcome unknown", {{"route", route}, {"error", e.what()}});
      return unavailable("database unavailable");
    } catch (const pqxx::unique_violation&) {
      return conflict("conflicts with existing data");
    } catch (const pqxx::foreign_key_violation&) {
      return not_found("a referenced user or room does not exist");
    } catch (const pqxx::check_violation&) {
      return bad_request("a value was rejected by the database");
    } catch (const pqxx::data_exception&) {
      return bad_request("a value was rejected by the database");
    } catch (const pqxx::sql_error& e) {
      const std::string& state = e.sqlstate();
      // 08 connection exception, 53 insufficient resources, 57 operator intervention
      // (shutdown), 40 transaction rollback (serialization failure, deadlock): retryable.
      if (starts_with(state, "08") || starts_with(state, "53") || starts_with(state, "57") ||
          starts_with(state, "40")) {
        log::warn("database temporarily failing", {{"route", route}, {"sqlstate", state}, {"error", e.what()}});
        return unavailable("database unavailable");
      }
      log::error("database error", {{"route", route}, {"sqlstate", state}, {"error", e.what()}});
      return internal_error();
    } catch (const std::exception& e) {
      log::error("request failed", {{"route", route}, {"error", e.what()}});
      return internal_error();
    } catch (...) {
      log::error("request failed", {{"route", route}, {"error", "unknown exception"}});
      return internal_error();
    }
  } catch (...) {
    // Building the answer itself failed (std::bad_alloc): a bare 500.
    http::response res{http::status::internal_server_error, 11};
    return res;
  }
}

}  // namespace chat::chatd::api
