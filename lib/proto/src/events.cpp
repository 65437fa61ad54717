#include <chat/proto/events.hpp>

#include "json_input.hpp"

#include <chat/common/time.hpp>

namespace chat::proto {
namespace {

void append_at(std::int64_t at_ms, std::string& out) {
  out.append(R"(,"at":")");
  common::append_iso8601_ms(at_ms, out);
  out.append("\"}");
}

}  // namespace

void append_json(const read_receipt& receipt, std::string& out) {
  out.append(R"({"roomId":)");
  append_json_int(receipt.room_id, out);
  out.append(R"(,"userId":)");
  append_json_int(receipt.user_id, out);
  out.append(R"(,"lastReadMessageId":)");
  append_json_int(receipt.last_read_message_id, out);
  append_at(receipt.at_ms, out);
}

validation_error parse_read_receipt(std::string_view json, read_receipt& out) {
  detail::json doc;
  if (auto error = detail::parse_object(json, doc)) return error;
  read_receipt receipt;
  if (auto error = detail::read_int64(doc, "roomId", 1, receipt.room_id)) return error;
  if (auto error = detail::read_int64(doc, "userId", 1, receipt.user_id)) return error;
  if (auto error = detail::read_int64(doc, "lastReadMessageId", 0, receipt.last_read_message_id)) {
    return error;
  }
  if (auto error = detail::read_timestamp(doc, "at", receipt.at_ms)) return error;
  out = receipt;
  return {};
}

std::string_view to_string(presence_status status) noexcept {
  switch (status) {
    case presence_status::online: return "ONLINE";
    case presence_status::offline: return "OFFLINE";
  }
  return "OFFLINE";
}

std::optional<presence_status> parse_presence_status(std::string_view text) noexcept {
  if (text == "ONLINE") return presence_status::online;
  if (text == "OFFLINE") return presence_status::offline;
  return std::nullopt;
}

void append_json(const presence_event& event, std::string& out) {
  out.append(R"({"userId":)");
  append_json_int(event.user_id, out);
  out.append(R"(,"status":")");
  out.append(to_string(event.status));
  out.push_back('"');
  append_at(event.at_ms, out);
}

validation_error parse_presence_event(std::string_view json, presence_event& out) {
  detail::json doc;
  if (auto error = detail::parse_object(json, doc)) return error;
  presence_event event;
  if (auto error = detail::read_int64(doc, "userId", 1, event.user_id)) return error;
  const std::string* text = nullptr;
  if (auto error = detail::read_string(doc, "status", text)) return error;
  const auto status = parse_presence_status(*text);
  if (!status) return detail::make_error(errc::bad_format, "status", "status must be ONLINE or OFFLINE");
  event.status = *status;
  if (auto error = detail::read_timestamp(doc, "at", event.at_ms)) return error;
  out = event;
  return {};
}

void append_json(const typing_event& event, std::string& out) {
  out.append(R"({"roomId":)");
  append_json_int(event.room_id, out);
  out.append(R"(,"userId":)");
  append_json_int(event.user_id, out);
  out.append(R"(,"nickname":)");
  append_json_string(event.nickname, out);
  append_at(event.at_ms, out);
}

validation_error parse_typing_event(std::string_view json, typing_event& out) {
  detail::json doc;
  if (auto error = detail::parse_object(json, doc)) return error;
  typing_event event;
  if (auto error = detail::read_int64(doc, "roomId", 1, event.room_id)) return error;
  if (auto error = detail::read_int64(doc, "userId", 1, event.user_id)) return error;
  const std::string* text = nullptr;
  if (auto error = detail::read_string(doc, "nickname", text)) return error;
  event.nickname = *text;
  if (auto error = detail::read_timestamp(doc, "at", event.at_ms)) return error;
  out = std::move(event);
  return {};
}

void append_json(const message_hidden_event& event, std::string& out) {
  out.append(R"({"event":)");
  append_json_string(message_hidden_event_name, out);
  out.append(R"(,"roomId":)");
  append_json_int(event.room_id, out);
  out.append(R"(,"messageId":)");
  append_json_int(event.message_id, out);
  out.push_back('}');
}

validation_error parse_message_hidden_event(std::string_view json, message_hidden_event& out) {
  detail::json doc;
  if (auto error = detail::parse_object(json, doc)) return error;
  const std::string* name = nullptr;
  if (auto error = detail::read_string(doc, "event", name)) return error;
  if (*name != message_hidden_event_name) {
    return detail::make_error(errc::bad_format, "event", "event must be \"message.hidden\"");
  }
  message_hidden_event event;
  if (auto error = detail::read_int64(doc, "roomId", 1, event.room_id)) return error;
  if (auto error = detail::read_int64(doc, "messageId", 0, event.message_id)) return error;
  out = event;
  return {};
}

void append_json(const read_event& event, std::string& out) {
  out.append(R"({"event":)");
  append_json_string(read_event_name, out);
  out.append(R"(,"roomId":)");
  append_json_int(event.room_id, out);
  out.append(R"(,"userId":)");
  append_json_int(event.user_id, out);
  out.append(R"(,"lastReadMessageId":)");
  append_json_int(event.last_read_message_id, out);
  out.push_back('}');
}

validation_error parse_read_event(std::string_view json, read_event& out) {
  detail::json doc;
  if (auto error = detail::parse_object(json, doc)) return error;
  const std::string* name = nullptr;
  if (auto error = detail::read_string(doc, "event", name)) return error;
  if (*name != read_event_name) return detail::make_error(errc::bad_format, "event", "event must be \"read\"");
  read_event event;
  if (auto error = detail::read_int64(doc, "roomId", 1, event.room_id)) return error;
  if (auto error = detail::read_int64(doc, "userId", 1, event.user_id)) return error;
  if (auto error = detail::read_int64(doc, "lastReadMessageId", 0, event.last_read_message_id)) return error;
  out = event;
  return {};
}

bool looks_like_read_event(std::string_view json) noexcept { return json.starts_with(R"({"event":"read",)"); }

std::string read_event_message_id(const read_event& event) {
  std::string out = "r";
  out += std::to_string(event.room_id);
  out.push_back('-');
  out += std::to_string(event.user_id);
  out.push_back('-');
  out += std::to_string(event.last_read_message_id);
  return out;
}

void append_json(const room_membership_event& event, std::string& out) {
  out.append(R"({"event":)");
  append_json_string(event.added ? room_added_event_name : room_removed_event_name, out);
  out.append(R"(,"roomId":)");
  append_json_int(event.room_id, out);
  out.push_back('}');
}

validation_error parse_room_membership_event(std::string_view json, room_membership_event& out) {
  detail::json doc;
  if (auto error = detail::parse_object(json, doc)) return error;
  const std::string* name = nullptr;
  if (auto error = detail::read_string(doc, "event", name)) return error;
  room_membership_event event;
  if (*name == room_added_event_name) {
    event.added = true;
  } else if (*name == room_removed_event_name) {
    event.added = false;
  } else {
    return detail::make_error(errc::bad_format, "event", "event must be \"room.added\" or \"room.removed\"");
  }
  if (auto error = detail::read_int64(doc, "roomId", 1, event.room_id)) return error;
  out = event;
  return {};
}

void append_json(const membership_revoked& event, std::string& out) {
  out.append(R"({"roomId":)");
  append_json_int(event.room_id, out);
  out.append(R"(,"userIds":[)");
  for (std::size_t i = 0; i < event.user_ids.size(); ++i) {
    if (i != 0) out.push_back(',');
    append_json_int(event.user_ids[i], out);
  }
  out.append("]}");
}

validation_error parse_membership_revoked(std::string_view json, membership_revoked& out) {
  detail::json doc;
  if (auto error = detail::parse_object(json, doc)) return error;
  membership_revoked event;
  if (auto error = detail::read_int64(doc, "roomId", 1, event.room_id)) return error;
  const auto* ids = detail::find_member(doc, "userIds");
  if (ids == nullptr) return detail::make_error(errc::missing_field, "userIds", "userIds is required");
  if (auto error = detail::read_id_array(*ids, "userIds", max_revoked_users, event.user_ids)) return error;
  out = std::move(event);
  return {};
}

}  // namespace chat::proto
