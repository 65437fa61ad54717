#include "api/errors.hpp"

#include <chat/log/log.hpp>

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

http::response blocked_pair() {
  return http::error_response(http::status::forbidden, codes::blocked,
                              "a block stands between you and this user: neither can reach the other");
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
    case store::room_access::no_such_room: return not_found("no such room");
    case store::room_access::not_a_member: return forbidden();
    case store::room_access::granted: break;
  }
  return internal_error();
}

http::response database_failure(std::string_view route, const store::error& error) {
  switch (error.code) {
    case store::errc::unavailable:
      log::warn("database temporarily failing",
                {{"route", route}, {"sqlstate", error.sqlstate}, {"error", error.message}});
      return unavailable("database unavailable");
    case store::errc::conflict: return conflict("conflicts with existing data");
    case store::errc::not_found: return not_found("a referenced user or room does not exist");
    case store::errc::rejected: return bad_request("a value was rejected by the database");
    case store::errc::internal:
      log::error("database error", {{"route", route}, {"sqlstate", error.sqlstate}, {"error", error.message}});
      return internal_error();
  }
  return internal_error();
}

}  // namespace chat::chatd::api
