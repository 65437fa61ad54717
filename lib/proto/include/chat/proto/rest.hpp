#pragma once
// Every body of the REST API (docs/rest.md): the requests with their validation rules, the answers and
// the error body. Each type has append_json (to_json(x) for a fresh string) and a parse_…
// from JSON text that answers wrong JSON types, missing members, non-object bodies and broken
// JSON (invalid UTF-8 included) with a validation_error, never an exception. chatd encodes
// the answers, lib/client and chatctl parse them: one schema on both sides of the wire.
// Unknown members are ignored when parsing (forward compatibility).
#include <chat/proto/error.hpp>
#include <chat/proto/json.hpp>
#include <chat/proto/message.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace chat::proto {

inline constexpr std::size_t max_email_bytes = 254;  // RFC 5321 path limit
inline constexpr std::size_t min_password_code_points = 8;
inline constexpr std::size_t max_password_code_points = 128;
inline constexpr std::size_t max_nickname_code_points = 40;
inline constexpr std::size_t max_room_name_code_points = 100;
inline constexpr std::size_t max_member_ids = 1000;

// {"error":{"code":"…","message":"…"}} with both strings escaped.
std::string error_body(std::string_view code, std::string_view message);

// The canonical form of an email address for storage and comparison: surrounding whitespace
// removed, ASCII letters lowered (non-ASCII bytes are kept as they are).
std::string normalize_email(std::string_view email);

// For an already normalized address: at most max_email_bytes bytes, exactly one '@', a
// non-empty local part, a domain of at least two non-empty dot-separated labels, and no
// whitespace or control characters anywhere.
bool is_valid_email(std::string_view normalized_email) noexcept;

// POST /api/auth/signup {"email","password","nickname"}
struct signup_request {
  std::string email;     // normalized (normalize_email) and valid (is_valid_email)
  std::string password;  // 8–128 code points, kept byte for byte (not trimmed)
  std::string nickname;  // trimmed; 1–40 code points; no control or bidi-override characters

  friend bool operator==(const signup_request&, const signup_request&) = default;
};

validation_error parse_signup_request(std::string_view json, signup_request& out);
void append_json(const signup_request& request, std::string& out);

// POST /api/auth/login {"email","password"}: only presence and type are checked, so that a
// malformed address gets the same 401 as an unknown one. The email is normalized.
struct login_request {
  std::string email;
  std::string password;

  friend bool operator==(const login_request&, const login_request&) = default;
};

validation_error parse_login_request(std::string_view json, login_request& out);
void append_json(const login_request& request, std::string& out);

// POST /api/rooms/direct {"targetUserId"}: a positive int64.
struct direct_room_request {
  std::int64_t target_user_id = 0;

  friend bool operator==(const direct_room_request&, const direct_room_request&) = default;
};

validation_error parse_direct_room_request(std::string_view json, direct_room_request& out);
void append_json(const direct_room_request& request, std::string& out);

// POST /api/rooms/group {"name","memberIds"}: name trimmed, 1–100 code points, same
// character rules as a nickname; memberIds an array (absent or null = empty) of at most
// max_member_ids positive int64 values, de-duplicated keeping the first occurrence.
struct group_room_request {
  std::string name;
  std::vector<std::int64_t> member_ids;

  friend bool operator==(const group_room_request&, const group_room_request&) = default;
};

validation_error parse_group_room_request(std::string_view json, group_room_request& out);
void append_json(const group_room_request& request, std::string& out);

// POST /api/rooms/{id}/members {"userIds"}: a non-empty array of at most max_member_ids
// positive int64 values, de-duplicated keeping the first occurrence.
struct add_members_request {
  std::vector<std::int64_t> user_ids;

  friend bool operator==(const add_members_request&, const add_members_request&) = default;
};

validation_error parse_add_members_request(std::string_view json, add_members_request& out);
void append_json(const add_members_request& request, std::string& out);

// PATCH /api/rooms/{id} {"name"?, "notice"?}: at least one of them. name as for a group room
// (trimmed, 1–100 code points, no control characters); notice trimmed, at most
// max_notice_code_points code points, no control characters but line breaks and tabs; "" or
// null clears the notice (then notice holds "").
struct update_room_request {
  std::optional<std::string> name;
  std::optional<std::string> notice;

  friend bool operator==(const update_room_request&, const update_room_request&) = default;
};

validation_error parse_update_room_request(std::string_view json, update_room_request& out);
void append_json(const update_room_request& request, std::string& out);

// PUT /api/rooms/{id}/members/{userId}/role {"role"}: OWNER (a transfer), ADMIN or MEMBER.
struct role_request {
  room_role role = room_role::member;

  friend bool operator==(const role_request&, const role_request&) = default;
};

validation_error parse_role_request(std::string_view json, role_request& out);
void append_json(const role_request& request, std::string& out);

// POST /api/rooms/{id}/read {"lastReadMessageId"}: an int64 >= 0.
struct mark_read_request {
  std::int64_t last_read_message_id = 0;

  friend bool operator==(const mark_read_request&, const mark_read_request&) = default;
};

validation_error parse_mark_read_request(std::string_view json, mark_read_request& out);
void append_json(const mark_read_request& request, std::string& out);

// ---- Answers ------------------------------------------------------------------------------

// {"error":{"code","message"}}: the body of every 4xx/5xx answer (error_body() writes one).
struct api_error {
  std::string code;
  std::string message;

  friend bool operator==(const api_error&, const api_error&) = default;
};

void append_json(const api_error& error, std::string& out);
validation_error parse_api_error(std::string_view json, api_error& out);

// POST /api/auth/refresh {"refreshToken"}; POST /api/auth/logout [{"refreshToken"}] (optional).
// Only presence and type are checked here: a token of the wrong shape is the route's 401.
struct refresh_request {
  std::string refresh_token;

  friend bool operator==(const refresh_request&, const refresh_request&) = default;
};

validation_error parse_refresh_request(std::string_view json, refresh_request& out);
// The logout body: empty, or an object whose "refreshToken" is optional.
validation_error parse_logout_request(std::string_view json, refresh_request& out);
void append_json(const refresh_request& request, std::string& out);

// POST /api/users/me/password {"currentPassword","newPassword"}: newPassword follows signup's
// password rules (8–128 code points); currentPassword only presence and type.
struct password_change_request {
  std::string current_password;
  std::string new_password;

  friend bool operator==(const password_change_request&, const password_change_request&) = default;
};

validation_error parse_password_change_request(std::string_view json, password_change_request& out);
void append_json(const password_change_request& request, std::string& out);

// signup, login, refresh: {"token","refreshToken","expiresIn","userId","email","nickname"}
// (refreshToken and expiresIn absent from servers before refresh tokens: empty and 0).
struct session {
  std::string token;
  std::int64_t user_id = 0;
  std::string email;
  std::string nickname;
  std::string refresh_token;
  std::int64_t expires_in = 0;  // seconds the access token lives

  friend bool operator==(const session&, const session&) = default;
};

void append_json(const session& value, std::string& out);
validation_error parse_session(std::string_view json, session& out);

// GET /api/users/me: {"id","email","nickname","createdAt","statusMessage"|null,"avatarUrl"|null}
// (the profile fields of people.hpp; a server without them is read as null).
struct user {
  std::int64_t id = 0;
  std::string email;
  std::string nickname;
  std::int64_t created_at_ms = 0;  // "createdAt", ISO-8601 UTC with milliseconds
  std::optional<std::string> status_message;
  std::optional<std::string> avatar_url;

  friend bool operator==(const user&, const user&) = default;
};

void append_json(const user& value, std::string& out);
validation_error parse_user(std::string_view json, user& out);

// GET /api/users?email=: {"id","nickname"}
struct user_ref {
  std::int64_t id = 0;
  std::string nickname;

  friend bool operator==(const user_ref&, const user_ref&) = default;
};

void append_json(const user_ref& value, std::string& out);
validation_error parse_user_ref(std::string_view json, user_ref& out);

enum class room_type { direct, group };

std::string_view to_string(room_type type) noexcept;                       // "DIRECT" / "GROUP"
std::optional<room_type> parse_room_type(std::string_view text) noexcept;  // exact case

// {"userId","nickname","role"} (role: the member's role, SPEC §16; absent when parsing an older
// answer)
struct room_member {
  std::int64_t user_id = 0;
  std::string nickname;
  std::optional<room_role> role;

  friend bool operator==(const room_member&, const room_member&) = default;
};

void append_json(const room_member& value, std::string& out);

// A room (POST /api/rooms/direct, /group, GET /api/rooms/{id}):
// {"id","type","name"|null,"createdBy","createdAt","notice"|null,"pinned":[messageId…],
//  "members":[room_member…]}
// (pinned: the room's pinned messages, most recently pinned first; GET /api/rooms/{id}/pins has
// them as history items).
// The parser requires id and type; createdBy, createdAt (0 when absent) and members (empty
// when absent) may be left out, as chatctl's room view leaves out createdAt.
struct room {
  std::int64_t id = 0;
  room_type type = room_type::group;
  std::optional<std::string> name;  // null for DIRECT rooms
  std::int64_t created_by = 0;
  std::int64_t created_at_ms = 0;
  std::vector<room_member> members;   // in joining order
  std::optional<std::string> notice;  // null: none
  std::vector<std::int64_t> pinned;   // most recently pinned first

  friend bool operator==(const room&, const room&) = default;
};

void append_json(const room& value, std::string& out);
validation_error parse_room(std::string_view json, room& out);

// POST /api/rooms/{id}/members: the room after the change plus "added":[userId…] (the users
// actually added), as the last member of the same object.
struct invite_result {
  room state;
  std::vector<std::int64_t> added;

  friend bool operator==(const invite_result&, const invite_result&) = default;
};

void append_json(const invite_result& value, std::string& out);
validation_error parse_invite_result(std::string_view json, invite_result& out);

// One entry of GET /api/rooms:
// {"id","type","name"|null,"memberCount","unreadCount","lastMessage":docs/events.md message|null}
struct room_summary {
  std::int64_t id = 0;
  room_type type = room_type::group;
  std::optional<std::string> name;
  std::int64_t member_count = 0;
  std::int64_t unread_count = 0;  // the caller's
  std::optional<chat_message> last_message;

  friend bool operator==(const room_summary&, const room_summary&) = default;
};

void append_json(const room_summary& value, std::string& out);
// GET /api/rooms: a JSON array of room_summary.
void append_json(std::span<const room_summary> rooms, std::string& out);
validation_error parse_room_summary(std::string_view json, room_summary& out);
validation_error parse_room_list(std::string_view json, std::vector<room_summary>& out);

// A change of the caller's room list: MESSAGE bodies on /user/queue/rooms and the events of
// GET /api/rooms/stream (SPEC §14):
//   {"event":"room.added"|"room.updated"|"room.removed","room":<room_summary>}
// room.removed carries only {"id":…} in "room".
enum class room_feed_kind { added, updated, removed };
std::string_view to_string(room_feed_kind kind) noexcept;  // "room.added", …
std::optional<room_feed_kind> parse_room_feed_kind(std::string_view text) noexcept;

struct room_feed_event {
  room_feed_kind kind = room_feed_kind::updated;
  room_summary room;  // removed: only room.id is meaningful

  friend bool operator==(const room_feed_event&, const room_feed_event&) = default;
};

void append_json(const room_feed_event& event, std::string& out);
validation_error parse_room_feed_event(std::string_view json, room_feed_event& out);

// GET /api/rooms/{id}/messages: {"messages":[docs/events.md…],"hasMore":bool,"nextCursor":id|null}
struct history_page {
  std::vector<chat_message> messages;  // newest first
  bool has_more = false;
  std::optional<std::int64_t> next_cursor;  // the id to pass as ?cursor= for the next page

  friend bool operator==(const history_page&, const history_page&) = default;
};

void append_json(const history_page& value, std::string& out);
// The same JSON for messages held elsewhere (no copy into a history_page).
void append_history_page_json(std::span<const chat_message> messages, bool has_more,
                              std::optional<std::int64_t> next_cursor, std::string& out);
validation_error parse_history_page(std::string_view json, history_page& out);

// GET /api/rooms/{id}/unread: {"unreadCount","lastReadMessageId"}
struct unread_state {
  std::int64_t unread_count = 0;
  std::int64_t last_read_message_id = 0;

  friend bool operator==(const unread_state&, const unread_state&) = default;
};

void append_json(const unread_state& value, std::string& out);
validation_error parse_unread_state(std::string_view json, unread_state& out);

// POST /api/rooms/{id}/read answers 202 {"roomId","lastReadMessageId"}
struct read_accepted {
  std::int64_t room_id = 0;
  std::int64_t last_read_message_id = 0;

  friend bool operator==(const read_accepted&, const read_accepted&) = default;
};

void append_json(const read_accepted& value, std::string& out);
validation_error parse_read_accepted(std::string_view json, read_accepted& out);

// GET /api/rooms/{id}/reads: [{"userId","lastReadMessageId"}], one per member (0: nothing read),
// in the server's order (by userId).
struct member_read {
  std::int64_t user_id = 0;
  std::int64_t last_read_message_id = 0;

  friend bool operator==(const member_read&, const member_read&) = default;
};

void append_json(const member_read& value, std::string& out);
void append_json(std::span<const member_read> reads, std::string& out);
// userId positive, lastReadMessageId >= 0.
validation_error parse_member_reads(std::string_view json, std::vector<member_read>& out);

// GET /api/rooms/{id}/members/online: [userId…], positive ids in the server's order.
void append_json(std::span<const std::int64_t> user_ids, std::string& out);
validation_error parse_user_ids(std::string_view json, std::vector<std::int64_t>& out);

}  // namespace chat::proto
