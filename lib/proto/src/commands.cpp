#include <chat/proto/commands.hpp>

#include "json_input.hpp"
#include "text.hpp"

#include <chat/common/utf8.hpp>

namespace chat::proto {
namespace {

validation_error check_content(std::string_view content, std::size_t max_code_points) {
  if (auto error = detail::check_max_code_points(content, "content", max_code_points)) return error;
  if (detail::is_blank(content)) {
    return detail::make_error(errc::bad_length, "content", "content must not be blank");
  }
  // PostgreSQL text cannot hold U+0000: accepting one would receipt a message that the
  // persistence consumer can only dead-letter.
  if (content.find('\0') != std::string_view::npos) {
    return detail::make_error(errc::bad_characters, "content", "content must not contain NUL (U+0000) characters");
  }
  return {};
}

// The members a send_request takes from a JSON object, except roomId.
validation_error read_send_members(const detail::json& doc, send_request& request,
                                   std::size_t max_content_code_points) {
  const std::string* text = nullptr;
  if (auto error = detail::read_string(doc, "content", text)) return error;
  if (auto error = check_content(*text, max_content_code_points)) return error;
  request.content = *text;

  if (auto error = detail::read_optional_string(doc, "type", text)) return error;
  if (text != nullptr) {
    const auto type = parse_message_type(*text);
    if (!type) return detail::make_error(errc::bad_format, "type", "type must be TEXT");
    switch (*type) {
      case message_type::text: break;
      case message_type::system:
        return detail::make_error(errc::not_allowed, "type", "clients may only send TEXT messages");
    }
  }

  if (auto error = detail::read_optional_string(doc, "messageKey", text)) return error;
  if (text != nullptr) {
    std::string key;
    if (auto error = detail::check_uuid(*text, "messageKey", key)) return error;
    request.message_key = std::move(key);
  }
  return {};
}

}  // namespace

validation_error parse_send_request(std::string_view json, send_request& out, std::size_t max_content_code_points) {
  detail::json doc;
  if (auto error = detail::parse_object(json, doc)) return error;
  send_request request;
  if (auto error = detail::read_int64(doc, "roomId", 1, request.room_id)) return error;
  if (auto error = read_send_members(doc, request, max_content_code_points)) return error;
  out = std::move(request);
  return {};
}

validation_error parse_room_send_body(std::string_view body, std::int64_t room_id, send_request& out,
                                      std::size_t max_content_code_points) {
  send_request request;
  request.room_id = room_id;
  const std::string_view trimmed = detail::trim_ascii_space(body);
  if (!trimmed.empty() && trimmed.front() == '{') {
    detail::json doc;
    if (!detail::parse_object(trimmed, doc) && doc.contains("content")) {
      if (auto error = read_send_members(doc, request, max_content_code_points)) return error;
      out = std::move(request);
      return {};
    }
  }
  if (!common::is_valid_utf8(body)) {
    return detail::make_error(errc::bad_characters, "content", "content must be valid UTF-8");
  }
  if (auto error = check_content(body, max_content_code_points)) return error;
  request.content = std::string(body);
  out = std::move(request);
  return {};
}

void append_json(const send_request& request, std::string& out) {
  out.append(R"({"roomId":)");
  append_json_int(request.room_id, out);
  out.append(R"(,"content":)");
  append_json_string(request.content, out);
  if (request.message_key) {
    out.append(R"(,"messageKey":)");
    append_json_string(*request.message_key, out);
  }
  out.push_back('}');
}

validation_error parse_read_request(std::string_view json, read_request& out) {
  detail::json doc;
  if (auto error = detail::parse_object(json, doc)) return error;
  read_request request;
  if (auto error = detail::read_int64(doc, "roomId", 1, request.room_id)) return error;
  if (auto error = detail::read_int64(doc, "lastReadMessageId", 0, request.last_read_message_id)) {
    return error;
  }
  out = request;
  return {};
}

void append_json(const read_request& request, std::string& out) {
  out.append(R"({"roomId":)");
  append_json_int(request.room_id, out);
  out.append(R"(,"lastReadMessageId":)");
  append_json_int(request.last_read_message_id, out);
  out.push_back('}');
}

validation_error parse_typing_request(std::string_view json, typing_request& out) {
  detail::json doc;
  if (auto error = detail::parse_object(json, doc)) return error;
  typing_request request;
  if (auto error = detail::read_int64(doc, "roomId", 1, request.room_id)) return error;
  out = request;
  return {};
}

void append_json(const typing_request& request, std::string& out) {
  out.append(R"({"roomId":)");
  append_json_int(request.room_id, out);
  out.push_back('}');
}

}  // namespace chat::proto
