#include <chat/proto/ids.hpp>
#include <chat/proto/names.hpp>

#include <charconv>

namespace chat::proto {
namespace {

std::string with_id(std::string_view prefix, std::int64_t id, std::string_view suffix = {}) {
  char digits[24];
  const auto result = std::to_chars(digits, digits + sizeof digits, id);
  std::string out;
  out.reserve(prefix.size() + static_cast<std::size_t>(result.ptr - digits) + suffix.size());
  out.append(prefix);
  out.append(digits, result.ptr);
  out.append(suffix);
  return out;
}

}  // namespace

std::string dlt_topic_for(std::string_view topic) {
  std::string out(topic);
  out.append(topics::dlt_suffix);
  return out;
}

std::optional<std::string_view> topic_of_dlt(std::string_view dlt_topic) noexcept {
  if (dlt_topic.size() <= topics::dlt_suffix.size() || !dlt_topic.ends_with(topics::dlt_suffix)) {
    return std::nullopt;
  }
  return dlt_topic.substr(0, dlt_topic.size() - topics::dlt_suffix.size());
}

std::string room_channel(std::int64_t room_id) { return with_id(redis_names::room_channel_prefix, room_id); }

std::optional<std::int64_t> parse_room_channel(std::string_view channel) noexcept {
  if (!channel.starts_with(redis_names::room_channel_prefix)) return std::nullopt;
  return parse_positive_id(channel.substr(redis_names::room_channel_prefix.size()));
}

std::string typing_channel(std::int64_t room_id) { return with_id(redis_names::typing_channel_prefix, room_id); }

std::optional<std::int64_t> parse_typing_channel(std::string_view channel) noexcept {
  if (!channel.starts_with(redis_names::typing_channel_prefix)) return std::nullopt;
  return parse_positive_id(channel.substr(redis_names::typing_channel_prefix.size()));
}

std::string user_channel(std::int64_t user_id) { return with_id(redis_names::user_channel_prefix, user_id); }

std::optional<std::int64_t> parse_user_channel(std::string_view channel) noexcept {
  if (!channel.starts_with(redis_names::user_channel_prefix)) return std::nullopt;
  return parse_positive_id(channel.substr(redis_names::user_channel_prefix.size()));
}

std::string presence_key(std::int64_t user_id) { return with_id(redis_names::presence_key_prefix, user_id); }

std::string unread_key(std::int64_t room_id, std::int64_t user_id) {
  std::string out = with_id(redis_names::unread_key_prefix, room_id, ":");
  char digits[24];
  const auto result = std::to_chars(digits, digits + sizeof digits, user_id);
  out.append(digits, result.ptr);
  return out;
}

std::optional<destination> parse_destination(std::string_view text) noexcept {
  if (text.starts_with(destinations::room_prefix)) {
    std::string_view rest = text.substr(destinations::room_prefix.size());
    destination_kind kind = destination_kind::room;
    if (rest.ends_with(destinations::typing_suffix)) {
      rest.remove_suffix(destinations::typing_suffix.size());
      kind = destination_kind::room_typing;
    }
    const auto room_id = parse_positive_id(rest);
    if (!room_id) return std::nullopt;
    return destination{kind, *room_id};
  }
  if (text == destinations::presence) return destination{destination_kind::presence, 0};
  if (text == destinations::user_errors) return destination{destination_kind::user_errors, 0};
  if (text == destinations::app_send) return destination{destination_kind::app_send, 0};
  if (text == destinations::app_read) return destination{destination_kind::app_read, 0};
  if (text == destinations::app_typing) return destination{destination_kind::app_typing, 0};
  if (text == destinations::app_edit) return destination{destination_kind::app_edit, 0};
  if (text == destinations::app_delete) return destination{destination_kind::app_delete, 0};
  if (text == destinations::app_react) return destination{destination_kind::app_react, 0};
  if (text == destinations::user_notifications) return destination{destination_kind::user_notifications, 0};
  if (text == destinations::user_rooms) return destination{destination_kind::user_rooms, 0};
  return std::nullopt;
}

std::string room_destination(std::int64_t room_id) { return with_id(destinations::room_prefix, room_id); }

std::string room_typing_destination(std::int64_t room_id) {
  return with_id(destinations::room_prefix, room_id, destinations::typing_suffix);
}

std::string format_destination(const destination& d) {
  switch (d.kind) {
    case destination_kind::room: return room_destination(d.room_id);
    case destination_kind::room_typing: return room_typing_destination(d.room_id);
    case destination_kind::presence: return std::string(destinations::presence);
    case destination_kind::user_errors: return std::string(destinations::user_errors);
    case destination_kind::app_send: return std::string(destinations::app_send);
    case destination_kind::app_read: return std::string(destinations::app_read);
    case destination_kind::app_typing: return std::string(destinations::app_typing);
    case destination_kind::app_edit: return std::string(destinations::app_edit);
    case destination_kind::app_delete: return std::string(destinations::app_delete);
    case destination_kind::app_react: return std::string(destinations::app_react);
    case destination_kind::user_notifications: return std::string(destinations::user_notifications);
    case destination_kind::user_rooms: return std::string(destinations::user_rooms);
  }
  return {};
}

}  // namespace chat::proto
