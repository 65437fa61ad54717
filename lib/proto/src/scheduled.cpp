#include <chat/proto/scheduled.hpp>

#include "json_input.hpp"
#include "text.hpp"

#include <chat/common/time.hpp>

namespace chat::proto {
namespace {

// A TEXT message's content rules (commands.cpp check_content).
validation_error check_schedule_content(std::string_view content, std::size_t max_code_points) {
  if (auto error = detail::check_max_code_points(content, "content", max_code_points)) return error;
  if (detail::is_blank(content)) return detail::make_error(errc::bad_length, "content", "content must not be blank");
  if (content.find('\0') != std::string_view::npos) {
    return detail::make_error(errc::bad_characters, "content", "content must not contain NUL (U+0000) characters");
  }
  return {};
}

validation_error read_repeat(const detail::json& doc, schedule_repeat& out) {
  const std::string* text = nullptr;
  if (auto error = detail::read_optional_string(doc, "repeat", text)) return error;
  if (text == nullptr) {
    out = schedule_repeat::once;
    return {};
  }
  const auto parsed = parse_schedule_repeat(*text);
  if (!parsed) {
    return detail::make_error(errc::bad_format, "repeat", R"(repeat must be "daily", "weekly", "monthly" or null)");
  }
  out = *parsed;
  return {};
}

void append_repeat(schedule_repeat repeat, std::string& out) {
  if (repeat == schedule_repeat::once) {
    out.append("null");
    return;
  }
  out.push_back('"');
  out.append(to_string(repeat));
  out.push_back('"');
}

validation_error read_scheduled_message(const detail::json& doc, scheduled_message& out) {
  if (!doc.is_object()) return detail::make_error(errc::not_an_object, {}, "a schedule must be a JSON object");
  scheduled_message value;
  const std::string* text = nullptr;
  if (auto error = detail::read_int64(doc, "id", 1, value.id)) return error;
  if (auto error = detail::read_int64(doc, "roomId", 1, value.room_id)) return error;
  if (auto error = detail::read_int64(doc, "authorId", 1, value.author_id)) return error;
  if (auto error = detail::read_string(doc, "content", text)) return error;
  value.content = *text;
  if (auto error = read_repeat(doc, value.repeat)) return error;
  if (auto error = detail::read_timestamp(doc, "sendAt", value.send_at_ms)) return error;
  if (auto error = detail::read_timestamp(doc, "firstSendAt", value.first_send_at_ms)) return error;
  if (auto error = detail::read_timestamp(doc, "createdAt", value.created_at_ms)) return error;
  out = std::move(value);
  return {};
}

}  // namespace

std::string_view to_string(schedule_repeat repeat) noexcept {
  switch (repeat) {
    case schedule_repeat::once: return "";
    case schedule_repeat::daily: return "daily";
    case schedule_repeat::weekly: return "weekly";
    case schedule_repeat::monthly: return "monthly";
  }
  return "";
}

std::optional<schedule_repeat> parse_schedule_repeat(std::string_view text) noexcept {
  if (text == "daily") return schedule_repeat::daily;
  if (text == "weekly") return schedule_repeat::weekly;
  if (text == "monthly") return schedule_repeat::monthly;
  return std::nullopt;
}

validation_error parse_schedule_request(std::string_view json, schedule_request& out,
                                        std::size_t max_content_code_points) {
  detail::json doc;
  if (auto error = detail::parse_object(json, doc)) return error;
  schedule_request request;
  const std::string* text = nullptr;
  if (auto error = detail::read_string(doc, "content", text)) return error;
  if (auto error = check_schedule_content(*text, max_content_code_points)) return error;
  request.content = *text;
  if (auto error = detail::read_timestamp(doc, "sendAt", request.send_at_ms)) return error;
  if (auto error = read_repeat(doc, request.repeat)) return error;
  out = std::move(request);
  return {};
}

void append_json(const schedule_request& request, std::string& out) {
  out.append(R"({"content":)");
  append_json_string(request.content, out);
  out.append(R"(,"sendAt":)");
  detail::append_timestamp(request.send_at_ms, out);
  if (request.repeat != schedule_repeat::once) {
    out.append(R"(,"repeat":)");
    append_repeat(request.repeat, out);
  }
  out.push_back('}');
}

validation_error check_schedule_time(std::int64_t send_at_ms, std::int64_t now_ms) {
  if (send_at_ms < now_ms - schedule_past_grace_ms) {
    return detail::make_error(errc::out_of_range, "sendAt", "sendAt must not lie in the past");
  }
  if (send_at_ms > now_ms + max_schedule_ahead_ms) {
    return detail::make_error(errc::out_of_range, "sendAt", "sendAt must lie at most 366 days ahead");
  }
  return {};
}

void append_json(const scheduled_message& value, std::string& out) {
  out.append(R"({"id":)");
  append_json_int(value.id, out);
  out.append(R"(,"roomId":)");
  append_json_int(value.room_id, out);
  out.append(R"(,"authorId":)");
  append_json_int(value.author_id, out);
  out.append(R"(,"content":)");
  append_json_string(value.content, out);
  out.append(R"(,"repeat":)");
  append_repeat(value.repeat, out);
  out.append(R"(,"sendAt":)");
  detail::append_timestamp(value.send_at_ms, out);
  out.append(R"(,"firstSendAt":)");
  detail::append_timestamp(value.first_send_at_ms, out);
  out.append(R"(,"createdAt":)");
  detail::append_timestamp(value.created_at_ms, out);
  out.push_back('}');
}

void append_json(std::span<const scheduled_message> values, std::string& out) {
  out.push_back('[');
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (i != 0) out.push_back(',');
    append_json(values[i], out);
  }
  out.push_back(']');
}

validation_error parse_scheduled_message(std::string_view json, scheduled_message& out) {
  detail::json doc;
  if (auto error = detail::parse_object(json, doc)) return error;
  return read_scheduled_message(doc, out);
}

validation_error parse_scheduled_message_list(std::string_view json, std::vector<scheduled_message>& out) {
  detail::json doc;
  if (auto error = detail::parse_value(json, doc)) return error;
  if (!doc.is_array()) return detail::make_error(errc::wrong_type, {}, "body must be a JSON array");
  std::vector<scheduled_message> values;
  values.reserve(doc.size());
  for (std::size_t i = 0; i < doc.size(); ++i) {
    scheduled_message value;
    if (auto error = read_scheduled_message(doc[i], value)) {
      return detail::nested(std::move(error), "[" + std::to_string(i) + "]");
    }
    values.push_back(std::move(value));
  }
  out = std::move(values);
  return {};
}

}  // namespace chat::proto
