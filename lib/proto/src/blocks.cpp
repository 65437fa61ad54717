#include "json_input.hpp"

#include <chat/common/time.hpp>
#include <chat/proto/blocks.hpp>

namespace chat::proto {

void append_json(const blocked_user& value, std::string& out) {
  out.append(R"({"userId":)");
  append_json_int(value.user_id, out);
  out.append(R"(,"nickname":)");
  append_json_string(value.nickname, out);
  out.append(R"(,"blockedAt":")");
  common::append_iso8601_ms(value.blocked_at_ms, out);
  out.append(R"("})");
}

void append_json(std::span<const blocked_user> values, std::string& out) {
  out.push_back('[');
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (i != 0) out.push_back(',');
    append_json(values[i], out);
  }
  out.push_back(']');
}

validation_error parse_blocked_user_list(std::string_view json, std::vector<blocked_user>& out) {
  detail::json doc;
  if (auto error = detail::parse_value(json, doc)) return error;
  if (!doc.is_array()) return detail::make_error(errc::wrong_type, {}, "body must be a JSON array");
  std::vector<blocked_user> values;
  values.reserve(doc.size());
  for (std::size_t i = 0; i < doc.size(); ++i) {
    const auto at = "[" + std::to_string(i) + "]";
    if (!doc[i].is_object()) return detail::make_error(errc::not_an_object, at, at + " must be an object");
    blocked_user value;
    const std::string* nickname = nullptr;
    if (auto error = detail::read_int64(doc[i], "userId", 1, value.user_id)) {
      return detail::nested(std::move(error), at);
    }
    if (auto error = detail::read_string(doc[i], "nickname", nickname)) return detail::nested(std::move(error), at);
    value.nickname = *nickname;
    if (auto error = detail::read_timestamp(doc[i], "blockedAt", value.blocked_at_ms)) {
      return detail::nested(std::move(error), at);
    }
    values.push_back(std::move(value));
  }
  out = std::move(values);
  return {};
}

void append_json(const block_change& value, std::string& out) {
  out.append(R"({"event":)");
  append_json_string(value.blocked ? block_added_event_name : block_removed_event_name, out);
  out.append(R"(,"blockerId":)");
  append_json_int(value.blocker_id, out);
  out.append(R"(,"blockedId":)");
  append_json_int(value.blocked_id, out);
  out.push_back('}');
}

validation_error parse_block_change(std::string_view json, block_change& out) {
  detail::json doc;
  if (auto error = detail::parse_object(json, doc)) return error;
  const std::string* name = nullptr;
  if (auto error = detail::read_string(doc, "event", name)) return error;
  block_change value;
  if (*name == block_added_event_name) {
    value.blocked = true;
  } else if (*name == block_removed_event_name) {
    value.blocked = false;
  } else {
    return detail::make_error(errc::bad_format, "event", R"(event must be "block.added" or "block.removed")");
  }
  if (auto error = detail::read_int64(doc, "blockerId", 1, value.blocker_id)) return error;
  if (auto error = detail::read_int64(doc, "blockedId", 1, value.blocked_id)) return error;
  if (value.blocker_id == value.blocked_id) {
    return detail::make_error(errc::bad_format, "blockedId", "a user cannot block themselves");
  }
  out = value;
  return {};
}

}  // namespace chat::proto
