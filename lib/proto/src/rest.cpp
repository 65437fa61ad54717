#include <chat/proto/rest.hpp>

#include "json_input.hpp"
#include "text.hpp"

#include <chat/common/utf8.hpp>

namespace chat::proto {
namespace {

// Nicknames and room names: trimmed, min..max code points, no control/bidi characters.
validation_error read_display_name(const detail::json& doc, const char* name,
                                   std::size_t max_code_points, std::string& out) {
  const std::string* text = nullptr;
  if (auto error = detail::read_string(doc, name, text)) return error;
  const std::string_view trimmed = detail::trim_ascii_space(*text);
  const auto length = common::utf8_length(trimmed);
  if (!length)
    return detail::make_error(errc::bad_characters, name,
                              std::string(name) + " must be valid UTF-8");
  if (*length < 1 || *length > max_code_points) {
    return detail::make_error(
        errc::bad_length, name,
        std::string(name) + " must be 1 to " + std::to_string(max_code_points) + " characters");
  }
  if (detail::has_forbidden_name_characters(trimmed)) {
    return detail::make_error(errc::bad_characters, name,
                              std::string(name) + " must not contain control characters");
  }
  out = std::string(trimmed);
  return {};
}

void append_id_array(const std::vector<std::int64_t>& ids, std::string& out) {
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
  if (at == std::string_view::npos || at == 0 ||
      email.find('@', at + 1) != std::string_view::npos) {
    return false;
  }
  const std::string_view domain = email.substr(at + 1);
  if (domain.empty() || domain.front() == '.' || domain.back() == '.' ||
      domain.find('.') == std::string_view::npos || domain.find("..") != std::string_view::npos) {
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
  const auto length = common::utf8_length(*text);
  if (!length)
    return detail::make_error(errc::bad_characters, "password", "password must be valid UTF-8");
  if (*length < min_password_code_points || *length > max_password_code_points) {
    return detail::make_error(errc::bad_length, "password",
                              "password must be " + std::to_string(min_password_code_points) +
                                  " to " + std::to_string(max_password_code_points) +
                                  " characters");
  }
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
  if (auto error = read_display_name(doc, "name", max_room_name_code_points, request.name))
    return error;
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
  if (ids == nullptr)
    return detail::make_error(errc::missing_field, "userIds", "userIds is required");
  if (auto error = detail::read_id_array(*ids, "userIds", max_member_ids, request.user_ids))
    return error;
  if (request.user_ids.empty()) {
    return detail::make_error(errc::bad_length, "userIds", "userIds must not be empty");
  }
  out = std::move(request);
  return {};
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

}  // namespace chat::proto
