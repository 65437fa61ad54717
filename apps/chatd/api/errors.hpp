#pragma once
// The REST API's error answers (docs/rest.md): every one carries proto::error_body
// {"error":{"code":…,"message":…}}. Messages are safe to show a client: no SQL, no internals.
#include "http/types.hpp"
#include "store/error.hpp"
#include "store/rooms.hpp"

#include <chat/proto/error.hpp>

#include <string_view>

namespace chat::chatd::api {

// Error codes of the bodies (the "code" member); stable, for clients to switch on.
namespace codes {
inline constexpr std::string_view unauthorized = "unauthorized";
inline constexpr std::string_view invalid_credentials = "invalid_credentials";
inline constexpr std::string_view forbidden = "forbidden";
inline constexpr std::string_view not_found = "not_found";
inline constexpr std::string_view conflict = "conflict";
inline constexpr std::string_view unavailable = "unavailable";
inline constexpr std::string_view rate_limited = "rate_limited";
inline constexpr std::string_view internal = "internal";
inline constexpr std::string_view blocked = "blocked";
inline constexpr std::string_view block_limit = "block_limit";
}  // namespace codes

// 400 with the validation error's wire code ("invalid_json" or "validation_error").
http::response bad_request(const proto::validation_error& error);
// 400 validation_error with a message of our own.
http::response bad_request(std::string_view message);
http::response forbidden(std::string_view message = "not a member of this room");
http::response not_found(std::string_view message);
http::response conflict(std::string_view message);
http::response unavailable(std::string_view message);
// 403 blocked: a DIRECT room (or friend request) between a blocked pair (SPEC §15). It does not
// say who blocks whom.
http::response blocked_pair();
http::response internal_error();

// 404 for no_such_room, 403 for not_a_member. Precondition: access != granted.
http::response access_denied(store::room_access access);

// The answer to a failed store call. Lost connections and other transient database states
// -> 503; data the database refused (bad encoding, a CHECK) -> 400; a unique violation
// -> 409; a missing referenced row -> 404; anything else -> 500. 503 and 500 are logged
// with `route`.
http::response database_failure(std::string_view route, const store::error& error);

}  // namespace chat::chatd::api
