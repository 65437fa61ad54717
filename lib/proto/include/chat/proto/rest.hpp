#pragma once
// Request bodies of the REST API (§3) with their validation rules, and the error body.
// Every parser answers wrong JSON types, non-object bodies and broken JSON with a
// validation_error (HTTP 400), never an exception.
#include <chat/proto/error.hpp>
#include <chat/proto/json.hpp>

#include <cstddef>
#include <cstdint>
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

// POST /api/rooms/{id}/read {"lastReadMessageId"}: an int64 >= 0.
struct mark_read_request {
  std::int64_t last_read_message_id = 0;

  friend bool operator==(const mark_read_request&, const mark_read_request&) = default;
};

validation_error parse_mark_read_request(std::string_view json, mark_read_request& out);
void append_json(const mark_read_request& request, std::string& out);

}  // namespace chat::proto
