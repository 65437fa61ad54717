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

validation_error read_optional_key(const detail::json& doc, std::optional<std::string>& out) {
  const std::string* text = nullptr;
  if (auto error = detail::read_optional_string(doc, "messageKey", text)) return error;
  if (text != nullptr) {
    std::string key;
    if (auto error = detail::check_uuid(*text, "messageKey", key)) return error;
    out = std::move(key);
  }
  return {};
}

validation_error read_optional_flag(const detail::json& doc, const char* name, bool& out) {
  if (detail::find_member(doc, name, /*null_is_absent=*/true) == nullptr) return {};
  return detail::read_bool(doc, name, out);
}

// The members a send_request takes from a JSON object, except roomId.
validation_error read_send_members(const detail::json& doc, send_request& request,
                                   std::size_t max_content_code_points) {
  const std::string* text = nullptr;
  // A send is the room event "message". The other events have destinations of their own;
  // message.preview is the server's alone (SPEC §16): say so rather than send a plain message.
  if (auto error = detail::read_optional_string(doc, "event", text)) return error;
  if (text != nullptr && *text != to_string(event_kind::message)) {
    return detail::make_error(errc::not_allowed, "event",
                              "a send is a message; other room events have their own destinations, and "
                              "message.preview is set by the server only");
  }
  if (detail::find_member(doc, "preview", /*null_is_absent=*/true) != nullptr) {
    return detail::make_error(errc::not_allowed, "preview", "a link preview is set by the server only");
  }
  if (auto error = detail::read_optional_string(doc, "type", text)) return error;
  if (text != nullptr) {
    const auto type = parse_message_type(*text);
    if (!type) return detail::make_error(errc::bad_format, "type", "type must be TEXT, IMAGE or FILE");
    if (*type == message_type::system) {
      return detail::make_error(errc::not_allowed, "type", "clients may only send TEXT, IMAGE and FILE messages");
    }
    request.type = *type;
  }
  const bool with_file = request.type == message_type::image || request.type == message_type::file;

  if (with_file) {
    if (auto error = detail::read_optional_string(doc, "content", text)) return error;
    if (text != nullptr) {
      if (auto error = detail::check_max_code_points(*text, "content", max_content_code_points)) return error;
      if (text->find('\0') != std::string::npos) {
        return detail::make_error(errc::bad_characters, "content", "content must not contain NUL (U+0000) characters");
      }
      request.content = *text;
    }
  } else {
    if (auto error = detail::read_string(doc, "content", text)) return error;
    if (auto error = check_content(*text, max_content_code_points)) return error;
    request.content = *text;
  }

  const detail::json* attachment = detail::find_member(doc, "attachment", /*null_is_absent=*/true);
  if (attachment != nullptr && !with_file) {
    return detail::make_error(errc::not_allowed, "attachment", "only IMAGE and FILE messages carry an attachment");
  }
  if (with_file) {
    if (attachment == nullptr) {
      return detail::make_error(errc::missing_field, "attachment", "IMAGE and FILE messages need an attachment");
    }
    file_attachment value;
    if (!attachment->is_object()) {
      return detail::make_error(errc::wrong_type, "attachment", "attachment must be a JSON object");
    }
    const std::string* field = nullptr;
    if (auto error = detail::read_string(*attachment, "url", field))
      return detail::nested(std::move(error), "attachment");
    value.url = *field;
    // name, size and mimeType may be left out for an uploaded file (/api/files/…): the server
    // fills them from the upload.
    if (auto error = detail::read_optional_string(*attachment, "name", field)) {
      return detail::nested(std::move(error), "attachment");
    }
    value.name = field != nullptr ? *field : "file";
    if (auto error = detail::read_optional_int64(*attachment, "size", 0, value.size)) {
      return detail::nested(std::move(error), "attachment");
    }
    if (auto error = detail::read_optional_string(*attachment, "mimeType", field)) {
      return detail::nested(std::move(error), "attachment");
    }
    value.mime_type = field != nullptr ? *field : "application/octet-stream";
    for (const char* name : {"width", "height"}) {
      std::int64_t v = 0;
      if (detail::find_member(*attachment, name, /*null_is_absent=*/true) == nullptr) continue;
      if (auto error = detail::read_int64(*attachment, name, 1, v))
        return detail::nested(std::move(error), "attachment");
      if (v > 1'000'000) {
        return detail::make_error(errc::out_of_range, std::string("attachment.") + name,
                                  std::string(name) + " must be at most 1000000");
      }
      (name[0] == 'w' ? value.width : value.height) = static_cast<std::int32_t>(v);
    }
    if (!attachment_file_id(value.url) && (detail::find_member(*attachment, "name", true) == nullptr ||
                                           detail::find_member(*attachment, "mimeType", true) == nullptr)) {
      return detail::make_error(errc::missing_field, "attachment", "an https attachment needs name, size and mimeType");
    }
    if (auto error = check_attachment(value)) return error;
    request.attachment = std::move(value);
  }

  if (auto error = detail::read_optional_int64(doc, "replyToId", 1, request.reply_to_id)) return error;
  return read_optional_key(doc, request.message_key);
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
  if (request.type != message_type::text) {
    out.append(R"(,"type":")");
    out.append(to_string(request.type));
    out.push_back('"');
  }
  if (request.reply_to_id > 0) {
    out.append(R"(,"replyToId":)");
    append_json_int(request.reply_to_id, out);
  }
  if (request.attachment) {
    out.append(R"(,"attachment":)");
    append_json(*request.attachment, out);
  }
  out.push_back('}');
}

namespace {

void append_target(std::int64_t room_id, std::int64_t target_id, std::string& out) {
  out.append(R"({"roomId":)");
  append_json_int(room_id, out);
  out.append(R"(,"targetId":)");
  append_json_int(target_id, out);
}

void append_key(const std::optional<std::string>& key, std::string& out) {
  if (!key) return;
  out.append(R"(,"messageKey":)");
  append_json_string(*key, out);
}

validation_error read_target(const detail::json& doc, std::int64_t& room_id, std::int64_t& target_id) {
  if (auto error = detail::read_int64(doc, "roomId", 1, room_id)) return error;
  return detail::read_int64(doc, "targetId", 0, target_id);
}

}  // namespace

validation_error parse_edit_request(std::string_view json, edit_request& out, std::size_t max_content_code_points) {
  detail::json doc;
  if (auto error = detail::parse_object(json, doc)) return error;
  edit_request request;
  if (auto error = read_target(doc, request.room_id, request.target_id)) return error;
  const std::string* text = nullptr;
  if (auto error = detail::read_string(doc, "content", text)) return error;
  if (auto error = check_content(*text, max_content_code_points)) return error;
  request.content = *text;
  if (auto error = read_optional_key(doc, request.message_key)) return error;
  out = std::move(request);
  return {};
}

void append_json(const edit_request& request, std::string& out) {
  append_target(request.room_id, request.target_id, out);
  out.append(R"(,"content":)");
  append_json_string(request.content, out);
  append_key(request.message_key, out);
  out.push_back('}');
}

validation_error parse_delete_request(std::string_view json, delete_request& out) {
  detail::json doc;
  if (auto error = detail::parse_object(json, doc)) return error;
  delete_request request;
  if (auto error = read_target(doc, request.room_id, request.target_id)) return error;
  if (auto error = read_optional_key(doc, request.message_key)) return error;
  if (auto error = read_optional_flag(doc, "forMe", request.for_me)) return error;
  out = std::move(request);
  return {};
}

void append_json(const delete_request& request, std::string& out) {
  append_target(request.room_id, request.target_id, out);
  append_key(request.message_key, out);
  if (request.for_me) out.append(R"(,"forMe":true)");
  out.push_back('}');
}

validation_error parse_react_request(std::string_view json, react_request& out) {
  detail::json doc;
  if (auto error = detail::parse_object(json, doc)) return error;
  react_request request;
  if (auto error = read_target(doc, request.room_id, request.target_id)) return error;
  const std::string* text = nullptr;
  if (auto error = detail::read_string(doc, "emoji", text)) return error;
  if (auto error = check_emoji(*text)) return error;
  request.emoji = *text;
  if (auto error = read_optional_flag(doc, "remove", request.remove)) return error;
  if (auto error = read_optional_key(doc, request.message_key)) return error;
  out = std::move(request);
  return {};
}

void append_json(const react_request& request, std::string& out) {
  append_target(request.room_id, request.target_id, out);
  out.append(R"(,"emoji":)");
  append_json_string(request.emoji, out);
  if (request.remove) out.append(R"(,"remove":true)");
  append_key(request.message_key, out);
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
