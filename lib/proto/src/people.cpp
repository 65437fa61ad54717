#include <chat/proto/people.hpp>
#include <chat/proto/rest.hpp>

#include "json_input.hpp"
#include "text.hpp"

#include <chat/common/time.hpp>
#include <chat/common/utf8.hpp>

namespace chat::proto {
namespace {

// A trimmed display text of min..max code points without control or bidi characters.
validation_error check_display_text(std::string_view text, const char* name, std::size_t min_code_points,
                                    std::size_t max_code_points, std::string& out) {
  const std::string_view trimmed = detail::trim_ascii_space(text);
  const auto length = common::utf8_length(trimmed);
  if (!length) return detail::make_error(errc::bad_characters, name, std::string(name) + " must be valid UTF-8");
  if (*length < min_code_points || *length > max_code_points) {
    return detail::make_error(errc::bad_length, name,
                              std::string(name) + " must be " + std::to_string(min_code_points) + " to " +
                                  std::to_string(max_code_points) + " characters");
  }
  if (detail::has_forbidden_name_characters(trimmed)) {
    return detail::make_error(errc::bad_characters, name, std::string(name) + " must not contain control characters");
  }
  out = std::string(trimmed);
  return {};
}

// A member that may be absent (nullopt), null or "" (clear: ""), or a string.
validation_error read_clearable(const detail::json& doc, const char* name, std::optional<std::string>& out,
                                bool& present) {
  const detail::json* value = detail::find_member(doc, name);
  present = value != nullptr;
  if (value == nullptr) return {};
  if (value->is_null()) {
    out = std::string();
    return {};
  }
  if (!value->is_string()) {
    return detail::make_error(errc::wrong_type, name, std::string(name) + " must be a string or null");
  }
  out = value->get<std::string>();
  return {};
}

constexpr bool is_alnum(char c) noexcept {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

validation_error read_positive(const detail::json& doc, const char* name, std::int64_t& out) {
  return detail::read_int64(doc, name, 1, out);
}

}  // namespace

bool is_valid_avatar_url(std::string_view url) noexcept {
  constexpr std::string_view scheme = "https://";
  if (url.size() <= scheme.size() || url.size() > max_avatar_url_bytes) return false;
  for (std::size_t i = 0; i < scheme.size(); ++i) {
    char c = url[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != scheme[i]) return false;
  }
  const std::string_view rest = url.substr(scheme.size());
  const std::size_t host_end = rest.find_first_of("/?#");
  const std::string_view authority = rest.substr(0, host_end);
  if (authority.empty()) return false;
  if (authority.front() == '[') {
    // An IPv6 literal: hex digits, ':' and '.' inside the brackets, then an optional port.
    const std::size_t close = authority.find(']');
    if (close == std::string_view::npos || close < 3) return false;
    for (const char c : authority.substr(1, close - 1)) {
      if (!(is_alnum(c) || c == ':' || c == '.')) return false;
    }
    const std::string_view port = authority.substr(close + 1);
    if (!port.empty() && (port.front() != ':' || port.size() < 2)) return false;
    for (const char c : port.substr(port.empty() ? 0 : 1)) {
      if (c < '0' || c > '9') return false;
    }
  } else {
    const std::size_t colon = authority.find(':');
    const std::string_view host = authority.substr(0, colon);
    if (host.empty() || host.front() == '.' || host.front() == '-') return false;
    for (const char c : host) {
      if (!(is_alnum(c) || c == '-' || c == '.')) return false;  // no '@' (user info), no '%'
    }
    if (colon != std::string_view::npos) {
      const std::string_view port = authority.substr(colon + 1);
      if (port.empty() || port.size() > 5) return false;
      for (const char c : port) {
        if (c < '0' || c > '9') return false;
      }
    }
  }
  if (host_end == std::string_view::npos) return true;
  constexpr std::string_view refused = "\"<>\\^`{|}";
  for (const char c : rest.substr(host_end)) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte <= 0x20 || byte >= 0x7F || refused.find(c) != std::string_view::npos) return false;
  }
  return true;
}

validation_error parse_profile_update(std::string_view json, profile_update& out) {
  detail::json doc;
  if (auto error = detail::parse_object(json, doc)) return error;
  profile_update update;
  bool any = false;

  if (const detail::json* nickname = detail::find_member(doc, "nickname")) {
    any = true;
    if (!nickname->is_string()) return detail::make_error(errc::wrong_type, "nickname", "nickname must be a string");
    std::string checked;
    if (auto error = check_display_text(nickname->get_ref<const std::string&>(), "nickname", 1,
                                        max_nickname_code_points, checked)) {
      return error;
    }
    update.nickname = std::move(checked);
  }

  bool present = false;
  std::optional<std::string> text;
  if (auto error = read_clearable(doc, "statusMessage", text, present)) return error;
  if (present) {
    any = true;
    std::string checked;
    if (!detail::is_blank(*text)) {
      if (auto error = check_display_text(*text, "statusMessage", 1, max_status_message_code_points, checked)) {
        return error;
      }
    }
    update.status_message = std::move(checked);
  }

  text.reset();
  if (auto error = read_clearable(doc, "avatarUrl", text, present)) return error;
  if (present) {
    any = true;
    if (!text->empty()) {
      if (!is_valid_avatar_url(*text)) {
        return detail::make_error(errc::bad_format, "avatarUrl",
                                  "avatarUrl must be an https:// URL of at most " +
                                      std::to_string(max_avatar_url_bytes) +
                                      " bytes without spaces, user info or unsafe characters");
      }
      // The scheme in lower case: "HTTPS://x" and "https://x" are one URL.
      for (std::size_t i = 0; i < 5; ++i) {
        char& c = (*text)[i];
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
      }
    }
    update.avatar_url = std::move(text);
  }

  if (!any) {
    return detail::make_error(errc::missing_field, {}, "nothing to change: give nickname, statusMessage or avatarUrl");
  }
  out = std::move(update);
  return {};
}

void append_json(const profile_update& value, std::string& out) {
  out.push_back('{');
  bool first = true;
  const auto member = [&](const char* name, const std::optional<std::string>& v) {
    if (!v) return;
    if (!first) out.push_back(',');
    first = false;
    append_json_string(name, out);
    out.push_back(':');
    if (v->empty()) {
      out.append("null");
    } else {
      append_json_string(*v, out);
    }
  };
  member("nickname", value.nickname);
  member("statusMessage", value.status_message);
  member("avatarUrl", value.avatar_url);
  out.push_back('}');
}

void append_json(const profile& value, std::string& out) {
  out.append(R"({"id":)");
  append_json_int(value.id, out);
  out.append(R"(,"nickname":)");
  append_json_string(value.nickname, out);
  out.append(R"(,"statusMessage":)");
  detail::append_nullable_string(value.status_message, out);
  out.append(R"(,"avatarUrl":)");
  detail::append_nullable_string(value.avatar_url, out);
  out.append(value.online ? R"(,"online":true)" : R"(,"online":false)");
  out.append(R"(,"lastSeenAt":)");
  if (value.last_seen_at_ms) {
    detail::append_timestamp(*value.last_seen_at_ms, out);
  } else {
    out.append("null");
  }
  out.push_back('}');
}

void append_json(std::span<const profile> values, std::string& out) {
  out.push_back('[');
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (i != 0) out.push_back(',');
    append_json(values[i], out);
  }
  out.push_back(']');
}

namespace {

validation_error read_profile(const detail::json& doc, profile& out) {
  profile value;
  const std::string* text = nullptr;
  if (auto error = read_positive(doc, "id", value.id)) return error;
  if (auto error = detail::read_string(doc, "nickname", text)) return error;
  value.nickname = *text;
  if (auto error = detail::read_nullable_string(doc, "statusMessage", value.status_message)) return error;
  if (auto error = detail::read_nullable_string(doc, "avatarUrl", value.avatar_url)) return error;
  if (auto error = detail::read_bool(doc, "online", value.online)) return error;
  if (detail::find_member(doc, "lastSeenAt", /*null_is_absent=*/true) != nullptr) {
    std::int64_t ms = 0;
    if (auto error = detail::read_timestamp(doc, "lastSeenAt", ms)) return error;
    value.last_seen_at_ms = ms;
  }
  out = std::move(value);
  return {};
}

validation_error read_friend_request(const detail::json& doc, friend_request& out) {
  friend_request value;
  const std::string* text = nullptr;
  if (auto error = read_positive(doc, "id", value.id)) return error;
  if (auto error = read_positive(doc, "fromUserId", value.from_user_id)) return error;
  if (auto error = detail::read_optional_string(doc, "fromNickname", text)) return error;
  if (text != nullptr) value.from_nickname = *text;
  if (auto error = read_positive(doc, "toUserId", value.to_user_id)) return error;
  if (auto error = detail::read_optional_string(doc, "toNickname", text)) return error;
  if (text != nullptr) value.to_nickname = *text;
  if (auto error = detail::read_timestamp(doc, "createdAt", value.created_at_ms)) return error;
  if (auto error = detail::read_string(doc, "status", text)) return error;
  const auto status = parse_friend_request_status(*text);
  if (!status)
    return detail::make_error(errc::bad_format, "status", "status must be pending|accepted|rejected|cancelled");
  value.status = *status;
  out = std::move(value);
  return {};
}

template <class T, class Read>
validation_error read_array(std::string_view json, std::vector<T>& out, Read read) {
  detail::json doc;
  if (auto error = detail::parse_value(json, doc)) return error;
  if (!doc.is_array()) return detail::make_error(errc::wrong_type, {}, "body must be a JSON array");
  std::vector<T> items;
  items.reserve(doc.size());
  for (std::size_t i = 0; i < doc.size(); ++i) {
    const std::string where = "[" + std::to_string(i) + "]";
    if (!doc[i].is_object()) return detail::make_error(errc::wrong_type, where, "items must be objects");
    T item;
    if (auto error = read(doc[i], item)) return detail::nested(std::move(error), where);
    items.push_back(std::move(item));
  }
  out = std::move(items);
  return {};
}

}  // namespace

validation_error parse_profile(std::string_view json, profile& out) {
  detail::json doc;
  if (auto error = detail::parse_object(json, doc)) return error;
  return read_profile(doc, out);
}

validation_error parse_profile_list(std::string_view json, std::vector<profile>& out) {
  return read_array<profile>(json, out, read_profile);
}

validation_error parse_friend_request_create(std::string_view json, friend_request_create& out) {
  detail::json doc;
  if (auto error = detail::parse_object(json, doc)) return error;
  friend_request_create value;
  if (auto error = read_positive(doc, "userId", value.user_id)) return error;
  out = value;
  return {};
}

void append_json(const friend_request_create& value, std::string& out) {
  out.append(R"({"userId":)");
  append_json_int(value.user_id, out);
  out.push_back('}');
}

std::string_view to_string(friend_request_status status) noexcept {
  switch (status) {
    case friend_request_status::pending: return "pending";
    case friend_request_status::accepted: return "accepted";
    case friend_request_status::rejected: return "rejected";
    case friend_request_status::cancelled: return "cancelled";
  }
  return "pending";
}

std::optional<friend_request_status> parse_friend_request_status(std::string_view text) noexcept {
  for (const auto s : {friend_request_status::pending, friend_request_status::accepted, friend_request_status::rejected,
                       friend_request_status::cancelled}) {
    if (to_string(s) == text) return s;
  }
  return std::nullopt;
}

void append_json(const friend_request& value, std::string& out) {
  out.append(R"({"id":)");
  append_json_int(value.id, out);
  out.append(R"(,"fromUserId":)");
  append_json_int(value.from_user_id, out);
  out.append(R"(,"fromNickname":)");
  append_json_string(value.from_nickname, out);
  out.append(R"(,"toUserId":)");
  append_json_int(value.to_user_id, out);
  out.append(R"(,"toNickname":)");
  append_json_string(value.to_nickname, out);
  out.append(R"(,"createdAt":)");
  detail::append_timestamp(value.created_at_ms, out);
  out.append(R"(,"status":)");
  append_json_string(to_string(value.status), out);
  out.push_back('}');
}

void append_json(std::span<const friend_request> values, std::string& out) {
  out.push_back('[');
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (i != 0) out.push_back(',');
    append_json(values[i], out);
  }
  out.push_back(']');
}

validation_error parse_friend_request(std::string_view json, friend_request& out) {
  detail::json doc;
  if (auto error = detail::parse_object(json, doc)) return error;
  return read_friend_request(doc, out);
}

validation_error parse_friend_request_list(std::string_view json, std::vector<friend_request>& out) {
  return read_array<friend_request>(json, out, read_friend_request);
}

std::string_view to_string(friend_event_kind kind) noexcept {
  switch (kind) {
    case friend_event_kind::requested: return "friend.requested";
    case friend_event_kind::accepted: return "friend.accepted";
    case friend_event_kind::rejected: return "friend.rejected";
    case friend_event_kind::cancelled: return "friend.cancelled";
    case friend_event_kind::removed: return "friend.removed";
  }
  return "friend.requested";
}

std::optional<friend_event_kind> parse_friend_event_kind(std::string_view text) noexcept {
  for (const auto k : {friend_event_kind::requested, friend_event_kind::accepted, friend_event_kind::rejected,
                       friend_event_kind::cancelled, friend_event_kind::removed}) {
    if (to_string(k) == text) return k;
  }
  return std::nullopt;
}

void append_json(const friend_event& event, std::string& out) {
  out.append(R"({"event":)");
  append_json_string(to_string(event.kind), out);
  if (event.kind != friend_event_kind::removed) {
    out.append(R"(,"requestId":)");
    append_json_int(event.request_id, out);
  }
  out.append(R"(,"fromUserId":)");
  append_json_int(event.from_user_id, out);
  out.append(R"(,"toUserId":)");
  append_json_int(event.to_user_id, out);
  out.append(R"(,"at":)");
  detail::append_timestamp(event.at_ms, out);
  out.push_back('}');
}

validation_error parse_friend_event(std::string_view json, friend_event& out) {
  detail::json doc;
  if (auto error = detail::parse_object(json, doc)) return error;
  const std::string* name = nullptr;
  if (auto error = detail::read_string(doc, "event", name)) return error;
  const auto kind = parse_friend_event_kind(*name);
  if (!kind) return detail::make_error(errc::bad_format, "event", "event must be a friend.* event");
  friend_event event;
  event.kind = *kind;
  if (event.kind != friend_event_kind::removed) {
    if (auto error = read_positive(doc, "requestId", event.request_id)) return error;
  }
  if (auto error = read_positive(doc, "fromUserId", event.from_user_id)) return error;
  if (auto error = read_positive(doc, "toUserId", event.to_user_id)) return error;
  if (auto error = detail::read_timestamp(doc, "at", event.at_ms)) return error;
  out = event;
  return {};
}

bool looks_like_friend_event(std::string_view json) noexcept { return json.starts_with(R"({"event":"friend.)"); }

void append_json(const profile_updated_event& event, std::string& out) {
  out.append(R"({"event":)");
  append_json_string(profile_updated_event_name, out);
  out.append(R"(,"userId":)");
  append_json_int(event.user_id, out);
  out.append(R"(,"nickname":)");
  append_json_string(event.nickname, out);
  out.push_back('}');
}

validation_error parse_profile_updated_event(std::string_view json, profile_updated_event& out) {
  detail::json doc;
  if (auto error = detail::parse_object(json, doc)) return error;
  const std::string* name = nullptr;
  if (auto error = detail::read_string(doc, "event", name)) return error;
  if (*name != profile_updated_event_name) {
    return detail::make_error(errc::bad_format, "event", "event must be \"profile.updated\"");
  }
  profile_updated_event event;
  if (auto error = read_positive(doc, "userId", event.user_id)) return error;
  const std::string* nickname = nullptr;
  if (auto error = detail::read_string(doc, "nickname", nickname)) return error;
  if (auto error = detail::check_max_code_points(*nickname, "nickname", max_nickname_code_points)) {
    return error;
  }
  if (nickname->empty()) return detail::make_error(errc::bad_length, "nickname", "nickname must not be empty");
  event.nickname = *nickname;
  out = std::move(event);
  return {};
}

}  // namespace chat::proto
