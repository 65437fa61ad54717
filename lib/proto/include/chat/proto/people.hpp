#pragma once
// People (SPEC §15, docs/rest.md "Profiles", "Search", "Friends"): the bodies of the profile,
// search and friends routes, and the friend events of /user/queue/notifications and the SSE
// stream. Same conventions as rest.hpp: append_json encodes, parse_… validates and never
// throws; unknown members are ignored.
#include <chat/proto/error.hpp>
#include <chat/proto/json.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace chat::proto {

inline constexpr std::size_t max_status_message_code_points = 140;
inline constexpr std::size_t max_avatar_url_bytes = 2048;
// GET /api/users/search?q=: 2..100 code points; limit 1..50, default 20.
inline constexpr std::size_t min_search_code_points = 2;
inline constexpr std::size_t max_search_code_points = 100;
inline constexpr int default_search_limit = 20;
inline constexpr int max_search_limit = 50;
// Pending outgoing friend requests one user may have at a time (409 pending_limit beyond).
inline constexpr std::int64_t max_pending_friend_requests = 100;

// An avatar URL: "https://" (scheme in any case, stored lower-cased by the parser), a host of
// letters, digits, '-', '.', optionally ":port" or an IPv6 literal in brackets, no user
// info; then an optional path/query/fragment of printable ASCII without spaces, quotes, '<',
// '>', '\\', '^', '`', '{', '|', '}'. At most max_avatar_url_bytes.
bool is_valid_avatar_url(std::string_view url) noexcept;

// PATCH /api/users/me {"nickname"?, "statusMessage"?, "avatarUrl"?}: at least one of them.
// nickname as at signup (trimmed, 1–40 characters, no control or bidi characters; null is
// refused); statusMessage trimmed, at most 140 characters, same character rules; avatarUrl
// is_valid_avatar_url. statusMessage and avatarUrl: null or "" clear the field.
struct profile_update {
  std::optional<std::string> nickname;        // set: the new nickname
  std::optional<std::string> status_message;  // set: the new text, "" = clear
  std::optional<std::string> avatar_url;      // set: the new URL, "" = clear

  friend bool operator==(const profile_update&, const profile_update&) = default;
};

validation_error parse_profile_update(std::string_view json, profile_update& out);
// Only the members that are set; "" is sent as null.
void append_json(const profile_update& value, std::string& out);

// A user as others see them (GET /api/users/{id}, search results, GET /api/friends):
// {"id","nickname","statusMessage"|null,"avatarUrl"|null,"online","lastSeenAt"|null}. No email.
// lastSeenAt: when their last session closed; null while online or never seen.
struct profile {
  std::int64_t id = 0;
  std::string nickname;
  std::optional<std::string> status_message;
  std::optional<std::string> avatar_url;
  bool online = false;
  std::optional<std::int64_t> last_seen_at_ms;

  friend bool operator==(const profile&, const profile&) = default;
};

void append_json(const profile& value, std::string& out);
void append_json(std::span<const profile> values, std::string& out);
validation_error parse_profile(std::string_view json, profile& out);
validation_error parse_profile_list(std::string_view json, std::vector<profile>& out);

// POST /api/friends/requests {"userId"}: a positive id.
struct friend_request_create {
  std::int64_t user_id = 0;

  friend bool operator==(const friend_request_create&, const friend_request_create&) = default;
};

validation_error parse_friend_request_create(std::string_view json, friend_request_create& out);
void append_json(const friend_request_create& value, std::string& out);

// Only pending requests are stored; the others are what an answer says happened to one.
enum class friend_request_status { pending, accepted, rejected, cancelled };
std::string_view to_string(friend_request_status status) noexcept;  // "pending", …
std::optional<friend_request_status> parse_friend_request_status(std::string_view text) noexcept;

// {"id","fromUserId","fromNickname","toUserId","toNickname","createdAt","status"}
struct friend_request {
  std::int64_t id = 0;
  std::int64_t from_user_id = 0;
  std::string from_nickname;
  std::int64_t to_user_id = 0;
  std::string to_nickname;
  std::int64_t created_at_ms = 0;
  friend_request_status status = friend_request_status::pending;

  friend bool operator==(const friend_request&, const friend_request&) = default;
};

void append_json(const friend_request& value, std::string& out);
void append_json(std::span<const friend_request> values, std::string& out);
validation_error parse_friend_request(std::string_view json, friend_request& out);
validation_error parse_friend_request_list(std::string_view json, std::vector<friend_request>& out);

// Channel chat:user:{userId} of both users, destination /user/queue/notifications (MESSAGE
// header chat-event:<event>) and the SSE stream GET /api/rooms/stream (event: <event>):
//   {"event":"friend.requested"|"friend.accepted"|"friend.rejected"|"friend.cancelled",
//    "requestId":…,"fromUserId":…,"toUserId":…,"at":"…"}
//   {"event":"friend.removed","fromUserId":<who removed>,"toUserId":<who was removed>,"at":"…"}
// fromUserId/toUserId of a request event are the request's (the sender, the addressee),
// whoever acted.
enum class friend_event_kind { requested, accepted, rejected, cancelled, removed };
std::string_view to_string(friend_event_kind kind) noexcept;  // "friend.requested", …
std::optional<friend_event_kind> parse_friend_event_kind(std::string_view text) noexcept;

struct friend_event {
  friend_event_kind kind = friend_event_kind::requested;
  std::int64_t request_id = 0;  // 0 for friend.removed
  std::int64_t from_user_id = 0;
  std::int64_t to_user_id = 0;
  std::int64_t at_ms = 0;

  friend bool operator==(const friend_event&, const friend_event&) = default;
};

void append_json(const friend_event& event, std::string& out);
validation_error parse_friend_event(std::string_view json, friend_event& out);
// A cheap test for a payload on a user channel: true when `json` starts the way append_json
// writes a friend event ({"event":"friend.). parse_friend_event still decides.
bool looks_like_friend_event(std::string_view json) noexcept;

// Channel chat:profile (every node): a user's nickname changed; each node's live sessions of
// that user stamp it on the messages they send from then on. Published by PATCH /api/users/me.
//   {"event":"profile.updated","userId":…,"nickname":"…"}
inline constexpr std::string_view profile_updated_event_name = "profile.updated";

struct profile_updated_event {
  std::int64_t user_id = 0;
  std::string nickname;

  friend bool operator==(const profile_updated_event&, const profile_updated_event&) = default;
};

void append_json(const profile_updated_event& event, std::string& out);
// "event" is "profile.updated"; userId positive; nickname 1–40 code points.
validation_error parse_profile_updated_event(std::string_view json, profile_updated_event& out);

}  // namespace chat::proto
