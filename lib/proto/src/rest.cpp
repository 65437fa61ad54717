#include <chat/proto/rest.hpp>

#include "json_input.hpp"
#include "text.hpp"

#include <chat/common/time.hpp>
#include <chat/common/utf8.hpp>

#include <algorithm>
#include <limits>

namespace chat::proto {
namespace {

// Nicknames and room names: trimmed, min..max code points, no control/bidi characters.
validation_error read_display_name(const detail::json& doc, const char* name, std::size_t max_code_points,
                                   std::string& out) {
  const std::string* text = nullptr;
  if (auto error = detail::read_string(doc, name, text)) return error;
  const std::string_view trimmed = detail::trim_ascii_space(*text);
  const auto length = common::utf8_length(trimmed);
  if (!length) return detail::make_error(errc::bad_characters, name, std::string(name) + " must be valid UTF-8");
  if (*length < 1 || *length > max_code_points) {
    return detail::make_error(errc::bad_length, name,
                              std::string(name) + " must be 1 to " + std::to_string(max_code_points) + " characters");
  }
  if (detail::has_forbidden_name_characters(trimmed)) {
    return detail::make_error(errc::bad_characters, name, std::string(name) + " must not contain control characters");
  }
  out = std::string(trimmed);
  return {};
}

// A password being set (signup, password change): 8–128 code points of valid UTF-8.
validation_error check_new_password(const std::string& text, const char* name) {
  const auto length = common::utf8_length(text);
  if (!length) return detail::make_error(errc::bad_characters, name, std::string(name) + " must be valid UTF-8");
  if (*length < min_password_code_points || *length > max_password_code_points) {
    return detail::make_error(errc::bad_length, name,
                              std::string(name) + " must be " + std::to_string(min_password_code_points) + " to " +
                                  std::to_string(max_password_code_points) + " characters");
  }
  return {};
}

void append_id_array(std::span<const std::int64_t> ids, std::string& out) {
  out.push_back('[');
  for (std::size_t i = 0; i < ids.size(); ++i) {
    if (i != 0) out.push_back(',');
    append_json_int(ids[i], out);
  }
  out.push_back(']');
}

}  // namespace

std::string error_body(std::string_view code, std::string_view message) {
  std::string out;
  out.reserve(34 + code.size() + message.size());
  out.append(R"({"error":{"code":)");
  append_json_string(code, out);
  out.append(R"(,"message":)");
  append_json_string(message, out);
  out.append("}}");
  return out;
}

std::string normalize_email(std::string_view email) {
  std::string out(detail::trim_ascii_space(email));
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

bool is_valid_email(std::string_view email) noexcept {
  if (email.empty() || email.size() > max_email_bytes) return false;
  for (const char c : email) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte <= 0x20 || byte == 0x7F) return false;  // whitespace and C0 controls
  }
  if (detail::has_forbidden_name_characters(email)) return false;  // C1, bidi, invalid UTF-8
  const std::size_t at = email.find('@');
  if (at == std::string_view::npos || at == 0 || email.find('@', at + 1) != std::string_view::npos) {
    return false;
  }
  const std::string_view domain = email.substr(at + 1);
  if (domain.empty() || domain.front() == '.' || domain.back() == '.' || domain.find('.') == std::string_view::npos ||
      domain.find("..") != std::string_view::npos) {
    return false;
  }
  return true;
}

validation_error parse_signup_request(std::string_view json, signup_request& out) {
  detail::json doc;
  if (auto error = detail::parse_object(json, doc)) return error;
  signup_request request;

  const std::string* text = nullptr;
  if (auto error = detail::read_string(doc, "email", text)) return error;
  request.email = normalize_email(*text);
  if (!is_valid_email(request.email)) {
    return detail::make_error(errc::bad_format, "email", "email must be a valid email address");
  }

  if (auto error = detail::read_string(doc, "password", text)) return error;
  if (auto error = check_new_password(*text, "password")) return error;
  request.password = *text;

  if (auto error = read_display_name(doc, "nickname", max_nickname_code_points, request.nickname)) {
    return error;
  }
  out = std::move(request);
  return {};
}

void append_json(const signup_request& request, std::string& out) {
  out.append(R"({"email":)");
  append_json_string(request.email, out);
  out.append(R"(,"password":)");
  append_json_string(request.password, out);
  out.append(R"(,"nickname":)");
  append_json_string(request.nickname, out);
  out.push_back('}');
}

validation_error parse_login_request(std::string_view json, login_request& out) {
  detail::json doc;
  if (auto error = detail::parse_object(json, doc)) return error;
  login_request request;
  const std::string* text = nullptr;
  if (auto error = detail::read_string(doc, "email", text)) return error;
  request.email = normalize_email(*text);
  if (auto error = detail::read_string(doc, "password", text)) return error;
  request.password = *text;
  out = std::move(request);
  return {};
}

validation_error parse_refresh_request(std::string_view json, refresh_request& out) {
  detail::json doc;
  if (auto error = detail::parse_object(json, doc)) return error;
  const std::string* text = nullptr;
  if (auto error = detail::read_string(doc, "refreshToken", text)) return error;
  out.refresh_token = *text;
  return {};
}

validation_error parse_logout_request(std::string_view json, refresh_request& out) {
  if (detail::trim_ascii_space(json).empty()) {
    out = {};
    return {};
  }
  detail::json doc;
  if (auto error = detail::parse_object(json, doc)) return error;
  const std::string* text = nullptr;
  if (auto error = detail::read_optional_string(doc, "refreshToken", text)) return error;
  out.refresh_token = text != nullptr ? *text : std::string();
  return {};
}

void append_json(const refresh_request& request, std::string& out) {
  out.append(R"({"refreshToken":)");
  append_json_string(request.refresh_token, out);
  out.push_back('}');
}

validation_error parse_password_change_request(std::string_view json, password_change_request& out) {
  detail::json doc;
  if (auto error = detail::parse_object(json, doc)) return error;
  password_change_request request;
  const std::string* text = nullptr;
  if (auto error = detail::read_string(doc, "currentPassword", text)) return error;
  request.current_password = *text;
  if (auto error = detail::read_string(doc, "newPassword", text)) return error;
  if (auto error = check_new_password(*text, "newPassword")) return error;
  request.new_password = *text;
  out = std::move(request);
  return {};
}

void append_json(const password_change_request& request, std::string& out) {
  out.append(R"({"currentPassword":)");
  append_json_string(request.current_password, out);
  out.append(R"(,"newPassword":)");
  append_json_string(request.new_password, out);
  out.push_back('}');
}

void append_json(const login_request& request, std::string& out) {
  out.append(R"({"email":)");
  append_json_string(request.email, out);
  out.append(R"(,"password":)");
  append_json_string(request.password, out);
  out.push_back('}');
}

validation_error parse_direct_room_request(std::string_view json, direct_room_request& out) {
  detail::json doc;
  if (auto error = detail::parse_object(json, doc)) return error;
  direct_room_request request;
  if (auto error = detail::read_int64(doc, "targetUserId", 1, request.target_user_id)) return error;
  out = request;
  return {};
}

void append_json(const direct_room_request& request, std::string& out) {
  out.append(R"({"targetUserId":)");
  append_json_int(request.target_user_id, out);
  out.push_back('}');
}

validation_error parse_group_room_request(std::string_view json, group_room_request& out) {
  detail::json doc;
  if (auto error = detail::parse_object(json, doc)) return error;
  group_room_request request;
  if (auto error = read_display_name(doc, "name", max_room_name_code_points, request.name)) return error;
  if (const auto* ids = detail::find_member(doc, "memberIds", /*null_is_absent=*/true)) {
    if (auto error = detail::read_id_array(*ids, "memberIds", max_member_ids, request.member_ids)) {
      return error;
    }
  }
  out = std::move(request);
  return {};
}

void append_json(const group_room_request& request, std::string& out) {
  out.append(R"({"name":)");
  append_json_string(request.name, out);
  out.append(R"(,"memberIds":)");
  append_id_array(request.member_ids, out);
  out.push_back('}');
}

validation_error parse_add_members_request(std::string_view json, add_members_request& out) {
  detail::json doc;
  if (auto error = detail::parse_object(json, doc)) return error;
  add_members_request request;
  const auto* ids = detail::find_member(doc, "userIds");
  if (ids == nullptr) return detail::make_error(errc::missing_field, "userIds", "userIds is required");
  if (auto error = detail::read_id_array(*ids, "userIds", max_member_ids, request.user_ids)) return error;
  if (request.user_ids.empty()) {
    return detail::make_error(errc::bad_length, "userIds", "userIds must not be empty");
  }
  out = std::move(request);
  return {};
}

validation_error parse_update_room_request(std::string_view json, update_room_request& out) {
  detail::json doc;
  if (auto error = detail::parse_object(json, doc)) return error;
  update_room_request request;
  if (detail::find_member(doc, "name", /*null_is_absent=*/true) != nullptr) {
    std::string name;
    if (auto error = read_display_name(doc, "name", max_room_name_code_points, name)) return error;
    request.name = std::move(name);
  }
  if (const auto* notice = detail::find_member(doc, "notice")) {
    if (notice->is_null()) {
      request.notice.emplace();
    } else {
      const std::string* text = nullptr;
      if (auto error = detail::read_string(doc, "notice", text)) return error;
      const std::string_view trimmed = detail::trim_ascii_space(*text);
      if (auto error = detail::check_max_code_points(trimmed, "notice", max_notice_code_points)) return error;
      // Line breaks and tabs are fine in a notice; every other control or bidirectional-override
      // character is not (as in names).
      std::string probe(trimmed);
      std::replace_if(
          probe.begin(), probe.end(), [](char c) { return c == '\n' || c == '\t'; }, ' ');
      if (detail::has_forbidden_name_characters(probe)) {
        return detail::make_error(errc::bad_characters, "notice",
                                  "notice must not contain control characters (line breaks and tabs are fine)");
      }
      request.notice = std::string(trimmed);
    }
  }
  if (!request.name && !request.notice) {
    return detail::make_error(errc::missing_field, "name", "name or notice is required");
  }
  out = std::move(request);
  return {};
}

void append_json(const update_room_request& request, std::string& out) {
  out.push_back('{');
  if (request.name) {
    out.append(R"("name":)");
    append_json_string(*request.name, out);
  }
  if (request.notice) {
    if (request.name) out.push_back(',');
    out.append(R"("notice":)");
    append_json_string(*request.notice, out);
  }
  out.push_back('}');
}

validation_error parse_role_request(std::string_view json, role_request& out) {
  detail::json doc;
  if (auto error = detail::parse_object(json, doc)) return error;
  const std::string* text = nullptr;
  if (auto error = detail::read_string(doc, "role", text)) return error;
  const auto role = parse_room_role(*text);
  if (!role) return detail::make_error(errc::bad_format, "role", "role must be OWNER, ADMIN or MEMBER");
  out.role = *role;
  return {};
}

void append_json(const role_request& request, std::string& out) {
  out.append(R"({"role":")");
  out.append(to_string(request.role));
  out.append("\"}");
}

void append_json(const add_members_request& request, std::string& out) {
  out.append(R"({"userIds":)");
  append_id_array(request.user_ids, out);
  out.push_back('}');
}

validation_error parse_mark_read_request(std::string_view json, mark_read_request& out) {
  detail::json doc;
  if (auto error = detail::parse_object(json, doc)) return error;
  mark_read_request request;
  if (auto error = detail::read_int64(doc, "lastReadMessageId", 0, request.last_read_message_id)) {
    return error;
  }
  out = request;
  return {};
}

void append_json(const mark_read_request& request, std::string& out) {
  out.append(R"({"lastReadMessageId":)");
  append_json_int(request.last_read_message_id, out);
  out.push_back('}');
}

// ---- Answers ------------------------------------------------------------------------------

namespace {

// Client-side reading of answers: content as long as the server chose to store it.
constexpr std::size_t any_content_length = std::numeric_limits<std::size_t>::max();

// "id", "type" and "name" of a room or room summary.
validation_error read_room_head(const detail::json& doc, std::int64_t& id, room_type& type,
                                std::optional<std::string>& name) {
  if (auto error = detail::read_int64(doc, "id", 1, id)) return error;
  const std::string* text = nullptr;
  if (auto error = detail::read_string(doc, "type", text)) return error;
  const auto parsed = parse_room_type(*text);
  if (!parsed) return detail::make_error(errc::bad_format, "type", "type must be DIRECT or GROUP");
  type = *parsed;
  return detail::read_nullable_string(doc, "name", name);
}

// Positive ids in their order (no de-duplication: the server's list is shown as it is).
validation_error read_user_ids(const detail::json& value, const char* name, std::vector<std::int64_t>& out) {
  if (!value.is_array()) return detail::make_error(errc::wrong_type, name, std::string(name) + " must be an array");
  std::vector<std::int64_t> ids;
  ids.reserve(value.size());
  for (std::size_t i = 0; i < value.size(); ++i) {
    const std::string element = std::string(name) + "[" + std::to_string(i) + "]";
    if (!value[i].is_number_integer()) {
      return detail::make_error(errc::wrong_type, element, element + " must be an integer id");
    }
    // nlohmann keeps non-negative literals unsigned: check the range before converting.
    const bool positive_int64 =
        value[i].is_number_unsigned()
            ? value[i].get<std::uint64_t>() - 1 < static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())
            : value[i].get<std::int64_t>() >= 1;
    if (!positive_int64) {
      return detail::make_error(errc::out_of_range, element, element + " must be a positive id");
    }
    ids.push_back(value[i].get<std::int64_t>());
  }
  out = std::move(ids);
  return {};
}

validation_error read_room_object(const detail::json& doc, room& out) {
  room value;
  if (auto error = read_room_head(doc, value.id, value.type, value.name)) return error;
  if (auto error = detail::read_optional_int64(doc, "createdBy", 1, value.created_by)) return error;
  if (detail::find_member(doc, "createdAt", /*null_is_absent=*/true) != nullptr) {
    if (auto error = detail::read_timestamp(doc, "createdAt", value.created_at_ms)) return error;
  }
  if (auto error = detail::read_nullable_string(doc, "notice", value.notice)) return error;
  if (const auto* pinned = detail::find_member(doc, "pinned", /*null_is_absent=*/true)) {
    if (auto error = read_user_ids(*pinned, "pinned", value.pinned)) return error;
  }
  if (const auto* members = detail::find_member(doc, "members", /*null_is_absent=*/true)) {
    if (!members->is_array()) return detail::make_error(errc::wrong_type, "members", "members must be an array");
    value.members.reserve(members->size());
    for (std::size_t i = 0; i < members->size(); ++i) {
      const auto& item = (*members)[i];
      const std::string where = "members[" + std::to_string(i) + "]";
      if (!item.is_object()) return detail::make_error(errc::wrong_type, where, where + " must be an object");
      room_member member;
      const std::string* nickname = nullptr;
      if (auto error = detail::read_int64(item, "userId", 1, member.user_id))
        return detail::nested(std::move(error), where);
      if (auto error = detail::read_string(item, "nickname", nickname)) return detail::nested(std::move(error), where);
      member.nickname = *nickname;
      const std::string* role = nullptr;
      if (auto error = detail::read_optional_string(item, "role", role)) return detail::nested(std::move(error), where);
      if (role != nullptr) {
        member.role = parse_room_role(*role);
        if (!member.role) {
          return detail::make_error(errc::bad_format, where + ".role", "role must be OWNER, ADMIN or MEMBER");
        }
      }
      value.members.push_back(std::move(member));
    }
  }
  out = std::move(value);
  return {};
}

// {"id","type","name" of a room or room summary, without the closing brace.
void append_room_head(std::int64_t id, room_type type, const std::optional<std::string>& name, std::string& out) {
  out.append(R"({"id":)");
  append_json_int(id, out);
  out.append(R"(,"type":")");
  out.append(to_string(type));
  out.append(R"(","name":)");
  detail::append_nullable_string(name, out);
}

// The room object without its closing brace, so that invite_result may add "added".
void append_room_open(const room& value, std::string& out) {
  append_room_head(value.id, value.type, value.name, out);
  out.append(R"(,"createdBy":)");
  append_json_int(value.created_by, out);
  out.append(R"(,"createdAt":)");
  detail::append_timestamp(value.created_at_ms, out);
  out.append(R"(,"notice":)");
  detail::append_nullable_string(value.notice, out);
  out.append(R"(,"pinned":)");
  append_id_array(value.pinned, out);
  out.append(R"(,"members":[)");
  for (std::size_t i = 0; i < value.members.size(); ++i) {
    if (i != 0) out.push_back(',');
    append_json(value.members[i], out);
  }
  out.push_back(']');
}

validation_error read_room_summary(const detail::json& doc, room_summary& out) {
  if (!doc.is_object()) return detail::make_error(errc::wrong_type, {}, "a room must be a JSON object");
  room_summary value;
  if (auto error = read_room_head(doc, value.id, value.type, value.name)) return error;
  if (auto error = detail::read_int64(doc, "memberCount", 0, value.member_count)) return error;
  if (auto error = detail::read_int64(doc, "unreadCount", 0, value.unread_count)) return error;
  if (const auto* last = detail::find_member(doc, "lastMessage", /*null_is_absent=*/true)) {
    chat_message message;
    if (auto error = detail::read_chat_message(*last, message, any_content_length))
      return detail::nested(std::move(error), "lastMessage");
    value.last_message = std::move(message);
  }
  out = std::move(value);
  return {};
}

}  // namespace

void append_json(const api_error& error, std::string& out) { out.append(error_body(error.code, error.message)); }

validation_error parse_api_error(std::string_view json, api_error& out) {
  detail::json doc;
  if (auto error = detail::parse_object(json, doc)) return error;
  const auto* body = detail::find_member(doc, "error");
  if (body == nullptr) return detail::make_error(errc::missing_field, "error", "error is required");
  if (!body->is_object()) return detail::make_error(errc::wrong_type, "error", "error must be an object");
  api_error value;
  const std::string* text = nullptr;
  if (auto error = detail::read_string(*body, "code", text)) return detail::nested(std::move(error), "error");
  value.code = *text;
  if (auto error = detail::read_string(*body, "message", text)) return detail::nested(std::move(error), "error");
  value.message = *text;
  out = std::move(value);
  return {};
}

void append_json(const session& value, std::string& out) {
  out.append(R"({"token":)");
  append_json_string(value.token, out);
  if (!value.refresh_token.empty()) {
    out.append(R"(,"refreshToken":)");
    append_json_string(value.refresh_token, out);
  }
  if (value.expires_in > 0) {
    out.append(R"(,"expiresIn":)");
    append_json_int(value.expires_in, out);
  }
  out.append(R"(,"userId":)");
  append_json_int(value.user_id, out);
  out.append(R"(,"email":)");
  append_json_string(value.email, out);
  out.append(R"(,"nickname":)");
  append_json_string(value.nickname, out);
  out.push_back('}');
}

validation_error parse_session(std::string_view json, session& out) {
  detail::json doc;
  if (auto error = detail::parse_object(json, doc)) return error;
  session value;
  const std::string* text = nullptr;
  if (auto error = detail::read_string(doc, "token", text)) return error;
  value.token = *text;
  if (auto error = detail::read_int64(doc, "userId", 1, value.user_id)) return error;
  if (auto error = detail::read_string(doc, "email", text)) return error;
  value.email = *text;
  if (auto error = detail::read_string(doc, "nickname", text)) return error;
  value.nickname = *text;
  if (auto error = detail::read_optional_string(doc, "refreshToken", text)) return error;
  if (text != nullptr) value.refresh_token = *text;
  if (auto error = detail::read_optional_int64(doc, "expiresIn", 0, value.expires_in)) return error;
  out = std::move(value);
  return {};
}

void append_json(const user& value, std::string& out) {
  out.append(R"({"id":)");
  append_json_int(value.id, out);
  out.append(R"(,"email":)");
  append_json_string(value.email, out);
  out.append(R"(,"nickname":)");
  append_json_string(value.nickname, out);
  out.append(R"(,"createdAt":)");
  detail::append_timestamp(value.created_at_ms, out);
  out.append(R"(,"statusMessage":)");
  detail::append_nullable_string(value.status_message, out);
  out.append(R"(,"avatarUrl":)");
  detail::append_nullable_string(value.avatar_url, out);
  out.push_back('}');
}

validation_error parse_user(std::string_view json, user& out) {
  detail::json doc;
  if (auto error = detail::parse_object(json, doc)) return error;
  user value;
  const std::string* text = nullptr;
  if (auto error = detail::read_int64(doc, "id", 1, value.id)) return error;
  if (auto error = detail::read_string(doc, "email", text)) return error;
  value.email = *text;
  if (auto error = detail::read_string(doc, "nickname", text)) return error;
  value.nickname = *text;
  if (auto error = detail::read_timestamp(doc, "createdAt", value.created_at_ms)) return error;
  if (auto error = detail::read_nullable_string(doc, "statusMessage", value.status_message)) return error;
  if (auto error = detail::read_nullable_string(doc, "avatarUrl", value.avatar_url)) return error;
  out = std::move(value);
  return {};
}

void append_json(const user_ref& value, std::string& out) {
  out.append(R"({"id":)");
  append_json_int(value.id, out);
  out.append(R"(,"nickname":)");
  append_json_string(value.nickname, out);
  out.push_back('}');
}

validation_error parse_user_ref(std::string_view json, user_ref& out) {
  detail::json doc;
  if (auto error = detail::parse_object(json, doc)) return error;
  user_ref value;
  const std::string* text = nullptr;
  if (auto error = detail::read_int64(doc, "id", 1, value.id)) return error;
  if (auto error = detail::read_string(doc, "nickname", text)) return error;
  value.nickname = *text;
  out = std::move(value);
  return {};
}

std::string_view to_string(room_type type) noexcept {
  switch (type) {
    case room_type::direct: return "DIRECT";
    case room_type::group: return "GROUP";
  }
  return "GROUP";
}

std::optional<room_type> parse_room_type(std::string_view text) noexcept {
  if (text == "DIRECT") return room_type::direct;
  if (text == "GROUP") return room_type::group;
  return std::nullopt;
}

void append_json(const room_member& value, std::string& out) {
  out.append(R"({"userId":)");
  append_json_int(value.user_id, out);
  out.append(R"(,"nickname":)");
  append_json_string(value.nickname, out);
  if (value.role) {
    out.append(R"(,"role":")");
    out.append(to_string(*value.role));
    out.push_back('"');
  }
  out.push_back('}');
}

void append_json(const room& value, std::string& out) {
  append_room_open(value, out);
  out.push_back('}');
}

validation_error parse_room(std::string_view json, room& out) {
  detail::json doc;
  if (auto error = detail::parse_object(json, doc)) return error;
  return read_room_object(doc, out);
}

void append_json(const invite_result& value, std::string& out) {
  append_room_open(value.state, out);
  out.append(R"(,"added":)");
  append_json(std::span<const std::int64_t>(value.added), out);
  out.push_back('}');
}

validation_error parse_invite_result(std::string_view json, invite_result& out) {
  detail::json doc;
  if (auto error = detail::parse_object(json, doc)) return error;
  invite_result value;
  if (auto error = read_room_object(doc, value.state)) return error;
  const auto* added = detail::find_member(doc, "added");
  if (added == nullptr) return detail::make_error(errc::missing_field, "added", "added is required");
  if (auto error = read_user_ids(*added, "added", value.added)) return error;
  out = std::move(value);
  return {};
}

void append_json(const room_summary& value, std::string& out) {
  append_room_head(value.id, value.type, value.name, out);
  out.append(R"(,"memberCount":)");
  append_json_int(value.member_count, out);
  out.append(R"(,"unreadCount":)");
  append_json_int(value.unread_count, out);
  out.append(R"(,"lastMessage":)");
  if (value.last_message) {
    append_json(*value.last_message, out);
  } else {
    out.append("null");
  }
  out.push_back('}');
}

void append_json(std::span<const room_summary> rooms, std::string& out) {
  out.push_back('[');
  for (std::size_t i = 0; i < rooms.size(); ++i) {
    if (i != 0) out.push_back(',');
    append_json(rooms[i], out);
  }
  out.push_back(']');
}

validation_error parse_room_summary(std::string_view json, room_summary& out) {
  detail::json doc;
  if (auto error = detail::parse_object(json, doc)) return error;
  return read_room_summary(doc, out);
}

validation_error parse_room_list(std::string_view json, std::vector<room_summary>& out) {
  detail::json doc;
  if (auto error = detail::parse_value(json, doc)) return error;
  if (!doc.is_array()) return detail::make_error(errc::wrong_type, {}, "body must be a JSON array");
  std::vector<room_summary> rooms;
  rooms.reserve(doc.size());
  for (std::size_t i = 0; i < doc.size(); ++i) {
    room_summary value;
    if (auto error = read_room_summary(doc[i], value))
      return detail::nested(std::move(error), "[" + std::to_string(i) + "]");
    rooms.push_back(std::move(value));
  }
  out = std::move(rooms);
  return {};
}

std::string_view to_string(room_feed_kind kind) noexcept {
  switch (kind) {
    case room_feed_kind::added: return "room.added";
    case room_feed_kind::updated: return "room.updated";
    case room_feed_kind::removed: return "room.removed";
  }
  return "room.updated";
}

std::optional<room_feed_kind> parse_room_feed_kind(std::string_view text) noexcept {
  if (text == "room.added") return room_feed_kind::added;
  if (text == "room.updated") return room_feed_kind::updated;
  if (text == "room.removed") return room_feed_kind::removed;
  return std::nullopt;
}

void append_json(const room_feed_event& event, std::string& out) {
  out.append(R"({"event":")");
  out.append(to_string(event.kind));
  out.append(R"(","room":)");
  if (event.kind == room_feed_kind::removed) {
    out.append(R"({"id":)");
    append_json_int(event.room.id, out);
    out.push_back('}');
  } else {
    append_json(event.room, out);
  }
  out.push_back('}');
}

validation_error parse_room_feed_event(std::string_view json, room_feed_event& out) {
  detail::json doc;
  if (auto error = detail::parse_object(json, doc)) return error;
  const std::string* name = nullptr;
  if (auto error = detail::read_string(doc, "event", name)) return error;
  const auto kind = parse_room_feed_kind(*name);
  if (!kind) {
    return detail::make_error(errc::bad_format, "event",
                              "event must be \"room.added\", \"room.updated\" or \"room.removed\"");
  }
  const auto* room = detail::find_member(doc, "room");
  if (room == nullptr) return detail::make_error(errc::missing_field, "room", "room is required");
  room_feed_event value;
  value.kind = *kind;
  if (*kind == room_feed_kind::removed) {
    if (!room->is_object()) return detail::make_error(errc::wrong_type, "room", "room must be a JSON object");
    if (auto error = detail::read_int64(*room, "id", 1, value.room.id)) return detail::nested(std::move(error), "room");
  } else if (auto error = read_room_summary(*room, value.room)) {
    return detail::nested(std::move(error), "room");
  }
  out = std::move(value);
  return {};
}

void append_history_page_json(std::span<const chat_message> messages, bool has_more,
                              std::optional<std::int64_t> next_cursor, std::string& out) {
  out.append(R"({"messages":[)");
  for (std::size_t i = 0; i < messages.size(); ++i) {
    if (i != 0) out.push_back(',');
    append_json(messages[i], out);
  }
  out.append(R"(],"hasMore":)");
  out.append(has_more ? "true" : "false");
  out.append(R"(,"nextCursor":)");
  if (next_cursor) {
    append_json_int(*next_cursor, out);
  } else {
    out.append("null");
  }
  out.push_back('}');
}

void append_json(const history_page& value, std::string& out) {
  append_history_page_json(value.messages, value.has_more, value.next_cursor, out);
}

validation_error parse_history_page(std::string_view json, history_page& out) {
  detail::json doc;
  if (auto error = detail::parse_object(json, doc)) return error;
  history_page value;
  const auto* messages = detail::find_member(doc, "messages");
  if (messages == nullptr) return detail::make_error(errc::missing_field, "messages", "messages is required");
  if (!messages->is_array()) return detail::make_error(errc::wrong_type, "messages", "messages must be an array");
  value.messages.reserve(messages->size());
  for (std::size_t i = 0; i < messages->size(); ++i) {
    chat_message message;
    if (auto error = detail::read_chat_message((*messages)[i], message, any_content_length))
      return detail::nested(std::move(error), "messages[" + std::to_string(i) + "]");
    value.messages.push_back(std::move(message));
  }
  if (auto error = detail::read_bool(doc, "hasMore", value.has_more)) return error;
  if (detail::find_member(doc, "nextCursor", /*null_is_absent=*/true) != nullptr) {
    std::int64_t cursor = 0;
    if (auto error = detail::read_int64(doc, "nextCursor", 0, cursor)) return error;
    value.next_cursor = cursor;
  }
  out = std::move(value);
  return {};
}

void append_json(const unread_state& value, std::string& out) {
  out.append(R"({"unreadCount":)");
  append_json_int(value.unread_count, out);
  out.append(R"(,"lastReadMessageId":)");
  append_json_int(value.last_read_message_id, out);
  out.push_back('}');
}

validation_error parse_unread_state(std::string_view json, unread_state& out) {
  detail::json doc;
  if (auto error = detail::parse_object(json, doc)) return error;
  unread_state value;
  if (auto error = detail::read_int64(doc, "unreadCount", 0, value.unread_count)) return error;
  if (auto error = detail::read_int64(doc, "lastReadMessageId", 0, value.last_read_message_id)) return error;
  out = value;
  return {};
}

void append_json(const read_accepted& value, std::string& out) {
  out.append(R"({"roomId":)");
  append_json_int(value.room_id, out);
  out.append(R"(,"lastReadMessageId":)");
  append_json_int(value.last_read_message_id, out);
  out.push_back('}');
}

validation_error parse_read_accepted(std::string_view json, read_accepted& out) {
  detail::json doc;
  if (auto error = detail::parse_object(json, doc)) return error;
  read_accepted value;
  if (auto error = detail::read_int64(doc, "roomId", 1, value.room_id)) return error;
  if (auto error = detail::read_int64(doc, "lastReadMessageId", 0, value.last_read_message_id)) return error;
  out = value;
  return {};
}

void append_json(std::span<const std::int64_t> user_ids, std::string& out) { append_id_array(user_ids, out); }

void append_json(const member_read& value, std::string& out) {
  out.append(R"({"userId":)");
  append_json_int(value.user_id, out);
  out.append(R"(,"lastReadMessageId":)");
  append_json_int(value.last_read_message_id, out);
  out.push_back('}');
}

void append_json(std::span<const member_read> reads, std::string& out) {
  out.push_back('[');
  for (std::size_t i = 0; i < reads.size(); ++i) {
    if (i != 0) out.push_back(',');
    append_json(reads[i], out);
  }
  out.push_back(']');
}

validation_error parse_member_reads(std::string_view json, std::vector<member_read>& out) {
  detail::json doc;
  if (auto error = detail::parse_value(json, doc)) return error;
  if (!doc.is_array()) return detail::make_error(errc::wrong_type, {}, "body must be a JSON array");
  std::vector<member_read> reads;
  reads.reserve(doc.size());
  for (std::size_t i = 0; i < doc.size(); ++i) {
    const auto at = "[" + std::to_string(i) + "]";
    if (!doc[i].is_object()) return detail::make_error(errc::not_an_object, at, at + " must be an object");
    member_read value;
    if (auto error = detail::read_int64(doc[i], "userId", 1, value.user_id))
      return detail::nested(std::move(error), at);
    if (auto error = detail::read_int64(doc[i], "lastReadMessageId", 0, value.last_read_message_id)) {
      return detail::nested(std::move(error), at);
    }
    reads.push_back(value);
  }
  out = std::move(reads);
  return {};
}

validation_error parse_user_ids(std::string_view json, std::vector<std::int64_t>& out) {
  detail::json doc;
  if (auto error = detail::parse_value(json, doc)) return error;
  return read_user_ids(doc, "userIds", out);
}

}  // namespace chat::proto
