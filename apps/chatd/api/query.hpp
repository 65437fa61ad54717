#pragma once
// Request-target parsing for the REST API: path ids and query parameters. Pure functions,
// unit-tested (tests/unit/chatd_api). Failures are proto::validation_error values (HTTP 400).
#include <chat/proto/error.hpp>

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>

namespace chat::chatd::api {

inline constexpr int default_page_size = 20;
inline constexpr int max_page_size = 100;

// Decodes one application/x-www-form-urlencoded component: %XX (either case) and '+' for a
// space. nullopt for a '%' not followed by two hex digits. The bytes are not checked for
// UTF-8 here; callers validate what they decoded.
std::optional<std::string> percent_decode(std::string_view text);

// The decoded value of the first `name=` in the query of `target` ("/p?a=1&b=2").
// `out` stays nullopt when absent; "name" without '=' counts as an empty value.
proto::validation_error query_param(std::string_view target, std::string_view name, std::optional<std::string>& out);

// A room id from a path segment: a canonical positive int64 (proto::parse_positive_id).
proto::validation_error parse_room_id(std::string_view segment, std::int64_t& out);
// A user id from a path segment (/api/blocks/{userId}): the same rules, field "userId".
proto::validation_error parse_user_id(std::string_view segment, std::int64_t& out);

// GET /api/rooms/{id}/messages?cursor=&size=
struct history_query {
  // Messages with id < before. No cursor (absent or empty) = from the newest.
  std::int64_t before = std::numeric_limits<std::int64_t>::max();
  int size = default_page_size;  // 1..max_page_size

  friend bool operator==(const history_query&, const history_query&) = default;
};

// cursor: a message id (decimal, 0..2^63-1, no sign, no leading zeros); size: 1..100.
proto::validation_error parse_history_query(std::string_view target, history_query& out);

// The `size` of a page in the query of `target`: an integer 1..max_page_size; absent or empty
// leaves `size` as it is. Every paged route (history, threads, bookmarks, forwards) uses it.
proto::validation_error parse_page_size(std::string_view target, int& size);

// GET /api/users/search?q=&limit= (docs/rest.md "Search").
struct user_search_query {
  std::string q;   // trimmed, 2..100 code points, valid UTF-8, no control characters
  int limit = 20;  // 1..proto::max_search_limit

  friend bool operator==(const user_search_query&, const user_search_query&) = default;
};

// q required (length is checked in bytes first, so a 10 kB q costs nothing more); limit
// optional, an integer 1..50.
proto::validation_error parse_user_search_query(std::string_view target, user_search_query& out);

// GET /api/friends/requests?direction=incoming|outgoing (default incoming).
proto::validation_error parse_request_direction(std::string_view target, bool& incoming);

}  // namespace chat::chatd::api
