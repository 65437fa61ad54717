#include <chat/proto/message.hpp>
#include <chat/proto/rest.hpp>

#include "json_input.hpp"
#include "text.hpp"

#include <chat/common/time.hpp>
#include <chat/common/utf8.hpp>
#include <chat/common/uuid.hpp>

#include <array>

namespace chat::proto {

std::string_view to_string(message_type type) noexcept {
  switch (type) {
    case message_type::text: return "TEXT";
    case message_type::system: return "SYSTEM";
    case message_type::image: return "IMAGE";
    case message_type::file: return "FILE";
  }
  return "TEXT";
}

std::optional<message_type> parse_message_type(std::string_view text) noexcept {
  if (text == "TEXT") return message_type::text;
  if (text == "SYSTEM") return message_type::system;
  if (text == "IMAGE") return message_type::image;
  if (text == "FILE") return message_type::file;
  return std::nullopt;
}

namespace {

constexpr std::array<std::pair<event_kind, std::string_view>, 14> event_names{{
    {event_kind::message, "message"},
    {event_kind::edited, "message.edited"},
    {event_kind::deleted, "message.deleted"},
    {event_kind::reaction_added, "reaction.added"},
    {event_kind::reaction_removed, "reaction.removed"},
    {event_kind::pinned, "message.pinned"},
    {event_kind::unpinned, "message.unpinned"},
    {event_kind::preview, "message.preview"},
    {event_kind::room_updated, "room.updated"},
    {event_kind::member_joined, "member.joined"},
    {event_kind::member_left, "member.left"},
    {event_kind::member_removed, "member.removed"},
    {event_kind::member_role, "member.role"},
    {event_kind::room_deleted, "room.deleted"},
}};

constexpr std::array<std::pair<room_role, std::string_view>, 3> role_names{{
    {room_role::owner, "OWNER"},
    {room_role::admin, "ADMIN"},
    {room_role::member, "MEMBER"},
}};

bool is_member_event(event_kind kind) noexcept {
  return kind == event_kind::member_joined || kind == event_kind::member_left || kind == event_kind::member_removed ||
         kind == event_kind::member_role;
}
bool has_role(event_kind kind) noexcept { return kind == event_kind::member_joined || kind == event_kind::member_role; }

constexpr std::string_view files_prefix = "/api/files/";

bool has_content(event_kind kind) noexcept { return kind == event_kind::message || kind == event_kind::edited; }
bool has_emoji(event_kind kind) noexcept {
  return kind == event_kind::reaction_added || kind == event_kind::reaction_removed;
}
bool has_attachment(message_type type) noexcept { return type == message_type::image || type == message_type::file; }

void append_optional_timestamp(const char* name, const std::optional<std::int64_t>& ms, std::string& out) {
  out.append(name);
  if (ms) {
    out.push_back('"');
    common::append_iso8601_ms(*ms, out);
    out.push_back('"');
  } else {
    out.append("null");
  }
}

void append_state(const message_state& s, std::string& out) {
  append_optional_timestamp(R"(,"editedAt":)", s.edited_at_ms, out);
  out.append(R"(,"deleted":)");
  out.append(s.deleted ? "true" : "false");
  out.append(R"(,"pinned":)");
  out.append(s.pinned ? "true" : "false");
  out.append(R"(,"replyCount":)");
  append_json_int(s.reply_count, out);
  append_optional_timestamp(R"(,"lastReplyAt":)", s.last_reply_at_ms, out);
  out.append(R"(,"reactions":[)");
  for (std::size_t i = 0; i < s.reactions.size(); ++i) {
    if (i != 0) out.push_back(',');
    out.append(R"({"emoji":)");
    append_json_string(s.reactions[i].emoji, out);
    out.append(R"(,"count":)");
    append_json_int(s.reactions[i].count, out);
    out.append(R"(,"me":)");
    out.append(s.reactions[i].me ? "true" : "false");
    out.push_back('}');
  }
  out.push_back(']');
  out.append(R"(,"preview":)");
  if (s.preview) {
    append_json(*s.preview, out);
  } else {
    out.append("null");
  }
}

// Whitespace and invisible characters that a reaction must not contain (besides controls).
bool is_forbidden_in_emoji(char32_t cp) noexcept {
  if (cp < 0x20 || (cp >= 0x7F && cp <= 0x9F)) return true;  // C0, DEL, C1
  switch (cp) {
    case 0x20:
    case 0x85:
    case 0xA0:
    case 0x1680:
    case 0x2028:
    case 0x2029:
    case 0x202F:
    case 0x205F:
    case 0x3000:
    case 0xFEFF:
    case 0x200B:
    case 0x2060: return true;
    default: break;
  }
  if (cp >= 0x2000 && cp <= 0x200A) return true;                                      // spaces
  if ((cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069)) return true;  // bidi controls
  return false;
}

bool is_mime_char(char c) noexcept {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '!' || c == '#' || c == '$' || c == '&' || c == '^' ||
         c == '_' || c == '.' || c == '+' || c == '-';
}

validation_error read_attachment(const detail::json& doc, file_attachment& out) {
  if (!doc.is_object()) {
    return detail::make_error(errc::wrong_type, "attachment", "attachment must be a JSON object");
  }
  file_attachment a;
  const std::string* text = nullptr;
  if (auto error = detail::read_string(doc, "url", text)) return detail::nested(std::move(error), "attachment");
  a.url = *text;
  if (auto error = detail::read_string(doc, "name", text)) return detail::nested(std::move(error), "attachment");
  a.name = *text;
  if (auto error = detail::read_int64(doc, "size", 0, a.size)) return detail::nested(std::move(error), "attachment");
  if (auto error = detail::read_string(doc, "mimeType", text)) return detail::nested(std::move(error), "attachment");
  a.mime_type = *text;
  for (const char* name : {"width", "height"}) {
    std::int64_t value = 0;
    if (detail::find_member(doc, name, /*null_is_absent=*/true) == nullptr) continue;
    if (auto error = detail::read_int64(doc, name, 1, value)) return detail::nested(std::move(error), "attachment");
    if (value > 1'000'000) {
      return detail::make_error(errc::out_of_range, std::string("attachment.") + name,
                                std::string(name) + " must be at most 1000000");
    }
    (name[0] == 'w' ? a.width : a.height) = static_cast<std::int32_t>(value);
  }
  if (auto error = check_attachment(a)) return error;
  out = std::move(a);
  return {};
}

validation_error read_forward_origin(const detail::json& doc, forward_origin& out) {
  if (!doc.is_object()) {
    return detail::make_error(errc::wrong_type, "forwardedFrom", "forwardedFrom must be a JSON object");
  }
  forward_origin f;
  const std::string* text = nullptr;
  if (auto error = detail::read_int64(doc, "roomId", 1, f.room_id))
    return detail::nested(std::move(error), "forwardedFrom");
  if (auto error = detail::read_int64(doc, "messageId", 0, f.message_id)) {
    return detail::nested(std::move(error), "forwardedFrom");
  }
  if (auto error = detail::read_string(doc, "senderNickname", text)) {
    return detail::nested(std::move(error), "forwardedFrom");
  }
  f.sender_nickname = *text;
  out = std::move(f);
  return {};
}

// An optional string member of a preview: absent or null leaves `out` empty.
validation_error read_preview_text(const detail::json& doc, const char* name, std::string& out) {
  const std::string* text = nullptr;
  if (auto error = detail::read_optional_string(doc, name, text)) return detail::nested(std::move(error), "preview");
  if (text != nullptr) out = *text;
  return {};
}

validation_error read_link_preview(const detail::json& doc, link_preview& out) {
  if (!doc.is_object()) return detail::make_error(errc::wrong_type, "preview", "preview must be a JSON object");
  link_preview p;
  const std::string* url = nullptr;
  if (auto error = detail::read_string(doc, "url", url)) return detail::nested(std::move(error), "preview");
  p.url = *url;
  if (auto error = read_preview_text(doc, "title", p.title)) return error;
  if (auto error = read_preview_text(doc, "description", p.description)) return error;
  if (auto error = read_preview_text(doc, "imageUrl", p.image_url)) return error;
  if (auto error = read_preview_text(doc, "siteName", p.site_name)) return error;
  if (auto error = check_link_preview(p)) return error;
  out = std::move(p);
  return {};
}

// http:// or https:// (either case), at most max_preview_url_bytes, no spaces or controls.
bool is_preview_url(std::string_view url) noexcept {
  auto starts_with_nocase = [url](std::string_view prefix) {
    if (url.size() <= prefix.size()) return false;
    for (std::size_t i = 0; i < prefix.size(); ++i) {
      char c = url[i];
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
      if (c != prefix[i]) return false;
    }
    return true;
  };
  if (url.size() > max_preview_url_bytes || !(starts_with_nocase("http://") || starts_with_nocase("https://"))) {
    return false;
  }
  for (const char c : url) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7F) return false;
  }
  return true;
}

validation_error check_preview_text(std::string_view text, const char* field, const std::string& name,
                                    std::size_t max_code_points) {
  const std::string path = std::string(field) + "." + name;
  if (auto error = detail::check_max_code_points(text, path.c_str(), max_code_points)) return error;
  if (detail::has_forbidden_name_characters(text)) {
    return detail::make_error(errc::bad_characters, path,
                              path + " must not contain control or bidirectional-override characters");
  }
  return {};
}

validation_error read_optional_timestamp(const detail::json& doc, const char* name, std::optional<std::int64_t>& out) {
  out.reset();
  if (detail::find_member(doc, name, /*null_is_absent=*/true) == nullptr) return {};
  std::int64_t ms = 0;
  if (auto error = detail::read_timestamp(doc, name, ms)) return error;
  out = ms;
  return {};
}

validation_error read_state(const detail::json& doc, message_state& out) {
  message_state s;
  if (auto error = read_optional_timestamp(doc, "editedAt", s.edited_at_ms)) return error;
  if (auto error = detail::read_bool(doc, "deleted", s.deleted)) return error;
  if (detail::find_member(doc, "pinned", true) != nullptr) {
    if (auto error = detail::read_bool(doc, "pinned", s.pinned)) return error;
  }
  if (auto error = detail::read_optional_int64(doc, "replyCount", 0, s.reply_count)) return error;
  if (auto error = read_optional_timestamp(doc, "lastReplyAt", s.last_reply_at_ms)) return error;
  if (const auto* reactions = detail::find_member(doc, "reactions", true)) {
    if (!reactions->is_array()) {
      return detail::make_error(errc::wrong_type, "reactions", "reactions must be an array");
    }
    s.reactions.reserve(reactions->size());
    for (std::size_t i = 0; i < reactions->size(); ++i) {
      const auto& item = (*reactions)[i];
      const std::string prefix = "reactions[" + std::to_string(i) + "]";
      if (!item.is_object()) return detail::make_error(errc::wrong_type, prefix, "a reaction must be a JSON object");
      reaction_count r;
      const std::string* text = nullptr;
      if (auto error = detail::read_string(item, "emoji", text)) return detail::nested(std::move(error), prefix);
      r.emoji = *text;
      if (auto error = detail::read_int64(item, "count", 0, r.count)) return detail::nested(std::move(error), prefix);
      if (auto error = detail::read_bool(item, "me", r.me)) return detail::nested(std::move(error), prefix);
      s.reactions.push_back(std::move(r));
    }
  }
  if (const auto* preview = detail::find_member(doc, "preview", true)) {
    link_preview p;
    if (auto error = read_link_preview(*preview, p)) return error;
    s.preview = std::move(p);
  }
  out = std::move(s);
  return {};
}

}  // namespace

std::string_view to_string(event_kind kind) noexcept {
  for (const auto& [k, name] : event_names) {
    if (k == kind) return name;
  }
  return "message";
}

std::optional<event_kind> parse_event_kind(std::string_view text) noexcept {
  for (const auto& [k, name] : event_names) {
    if (name == text) return k;
  }
  return std::nullopt;
}

bool is_admin_event(event_kind kind) noexcept {
  switch (kind) {
    case event_kind::message:
    case event_kind::edited:
    case event_kind::deleted:
    case event_kind::reaction_added:
    case event_kind::reaction_removed:
    case event_kind::pinned:
    case event_kind::preview:
    case event_kind::unpinned: return false;
    case event_kind::room_updated:
    case event_kind::member_joined:
    case event_kind::member_left:
    case event_kind::member_removed:
    case event_kind::member_role:
    case event_kind::room_deleted: return true;
  }
  return false;
}

bool is_history_notice(event_kind kind) noexcept { return is_admin_event(kind) && kind != event_kind::room_deleted; }

std::string_view to_string(room_role role) noexcept {
  for (const auto& [r, name] : role_names) {
    if (r == role) return name;
  }
  return "MEMBER";
}

std::optional<room_role> parse_room_role(std::string_view text) noexcept {
  for (const auto& [r, name] : role_names) {
    if (name == text) return r;
  }
  return std::nullopt;
}

std::optional<std::string> attachment_file_id(std::string_view url) {
  if (!url.starts_with(files_prefix)) return std::nullopt;
  const std::string id(url.substr(files_prefix.size()));
  if (!common::is_uuid(id)) return std::nullopt;
  return common::normalize_uuid(id);
}

validation_error check_emoji(std::string_view emoji, const char* field) {
  if (emoji.empty()) return detail::make_error(errc::bad_length, field, std::string(field) + " must not be empty");
  std::size_t count = 0;
  for (std::size_t i = 0; i < emoji.size();) {
    char32_t cp = 0;
    const std::size_t n = common::utf8_decode(emoji, i, cp);
    if (n == 0) return detail::make_error(errc::bad_characters, field, std::string(field) + " must be valid UTF-8");
    if (is_forbidden_in_emoji(cp)) {
      return detail::make_error(errc::bad_characters, field,
                                std::string(field) + " must not contain whitespace or control characters");
    }
    i += n;
    if (++count > max_emoji_code_points) {
      return detail::make_error(errc::bad_length, field,
                                std::string(field) + " must be 1 to 8 Unicode characters (scalar values)");
    }
  }
  return {};
}

validation_error check_attachment(file_attachment& a) {
  if (auto id = attachment_file_id(a.url)) {
    a.url = std::string(files_prefix) + *id;
  } else {
    if (!a.url.starts_with("https://") || a.url.size() <= 8) {
      return detail::make_error(errc::bad_format, "attachment.url",
                                "attachment.url must be an https:// URL or /api/files/{id}");
    }
    if (a.url.size() > max_attachment_url_bytes) {
      return detail::make_error(errc::bad_length, "attachment.url", "attachment.url must be at most 2048 bytes");
    }
    for (const char c : a.url) {
      if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7F) {
        return detail::make_error(errc::bad_characters, "attachment.url",
                                  "attachment.url must not contain spaces or control characters");
      }
    }
  }
  if (detail::is_blank(a.name)) {
    return detail::make_error(errc::bad_length, "attachment.name", "attachment.name must not be blank");
  }
  if (auto error = detail::check_max_code_points(a.name, "attachment.name", max_attachment_name_code_points)) {
    return error;
  }
  if (detail::has_forbidden_name_characters(a.name)) {
    return detail::make_error(errc::bad_characters, "attachment.name",
                              "attachment.name must not contain control or bidirectional-override characters");
  }
  for (char& c : a.mime_type) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  const auto slash = a.mime_type.find('/');
  bool mime_ok = a.mime_type.size() <= max_mime_type_bytes && slash != std::string::npos && slash > 0 &&
                 slash + 1 < a.mime_type.size();
  for (std::size_t i = 0; mime_ok && i < a.mime_type.size(); ++i) {
    mime_ok = i == slash || is_mime_char(a.mime_type[i]);
  }
  if (!mime_ok) {
    return detail::make_error(errc::bad_format, "attachment.mimeType",
                              "attachment.mimeType must be a MIME type like image/png");
  }
  return {};
}

void append_json(const file_attachment& a, std::string& out) {
  out.append(R"({"url":)");
  append_json_string(a.url, out);
  out.append(R"(,"name":)");
  append_json_string(a.name, out);
  out.append(R"(,"size":)");
  append_json_int(a.size, out);
  out.append(R"(,"mimeType":)");
  append_json_string(a.mime_type, out);
  if (a.width) {
    out.append(R"(,"width":)");
    append_json_int(*a.width, out);
  }
  if (a.height) {
    out.append(R"(,"height":)");
    append_json_int(*a.height, out);
  }
  out.push_back('}');
}

void append_json(const link_preview& p, std::string& out) {
  auto member = [&out](std::string_view name, const std::string& value) {
    out.append(name);
    if (value.empty()) {
      out.append("null");
    } else {
      append_json_string(value, out);
    }
  };
  out.append(R"({"url":)");
  append_json_string(p.url, out);
  member(R"(,"title":)", p.title);
  member(R"(,"description":)", p.description);
  member(R"(,"imageUrl":)", p.image_url);
  member(R"(,"siteName":)", p.site_name);
  out.push_back('}');
}

validation_error check_link_preview(const link_preview& p, const char* field) {
  if (!is_preview_url(p.url)) {
    return detail::make_error(errc::bad_format, std::string(field) + ".url",
                              std::string(field) + ".url must be an http(s) URL of at most 2048 bytes without spaces");
  }
  if (!p.image_url.empty() && !is_preview_url(p.image_url)) {
    return detail::make_error(
        errc::bad_format, std::string(field) + ".imageUrl",
        std::string(field) + ".imageUrl must be an http(s) URL of at most 2048 bytes without spaces");
  }
  if (auto error = check_preview_text(p.title, field, "title", max_preview_title_code_points)) return error;
  if (auto error = check_preview_text(p.description, field, "description", max_preview_description_code_points)) {
    return error;
  }
  return check_preview_text(p.site_name, field, "siteName", max_preview_site_name_code_points);
}

void append_json(const chat_message& m, std::string& out) {
  // Fixed part: names, punctuation, four int64s, the timestamp; strings are mostly copied.
  out.reserve(out.size() + 200 + m.message_key.size() + m.sender_nickname.size() + m.content.size());
  out.push_back('{');
  if (m.id >= 0) {
    out.append(R"("id":)");
    append_json_int(m.id, out);
    out.push_back(',');
  }
  if (m.event != event_kind::message) {
    out.append(R"("event":")");
    out.append(to_string(m.event));
    out.append(R"(",)");
  }
  out.append(R"("messageKey":)");
  append_json_string(m.message_key, out);
  out.append(R"(,"roomId":)");
  append_json_int(m.room_id, out);
  out.append(R"(,"senderId":)");
  append_json_int(m.sender_id, out);
  out.append(R"(,"senderNickname":)");
  append_json_string(m.sender_nickname, out);
  if (is_admin_event(m.event)) {
    if (is_member_event(m.event)) {
      out.append(R"(,"userId":)");
      append_json_int(m.user_id, out);
    }
    if (m.role) {
      out.append(R"(,"role":")");
      out.append(to_string(*m.role));
      out.push_back('"');
    }
    if (m.name) {
      out.append(R"(,"name":)");
      append_json_string(*m.name, out);
    }
    if (m.notice) {
      out.append(R"(,"notice":)");
      append_json_string(*m.notice, out);
    }
    out.append(R"(,"content":)");
    append_json_string(m.content, out);
    out.append(R"(,"type":"SYSTEM","createdAt":")");
    common::append_iso8601_ms(m.created_at_ms, out);
    out.append("\"}");
    return;
  }
  if (m.event != event_kind::message) {
    out.append(R"(,"targetId":)");
    append_json_int(m.target_id, out);
    if (has_content(m.event)) {
      out.append(R"(,"content":)");
      append_json_string(m.content, out);
    }
    if (has_emoji(m.event)) {
      out.append(R"(,"emoji":)");
      append_json_string(m.emoji, out);
    }
    if (m.event == event_kind::preview && m.preview) {
      out.append(R"(,"preview":)");
      append_json(*m.preview, out);
    }
    out.append(R"(,"createdAt":")");
    common::append_iso8601_ms(m.created_at_ms, out);
    out.append("\"}");
    return;
  }
  out.append(R"(,"content":)");
  append_json_string(m.content, out);
  out.append(R"(,"type":")");
  out.append(to_string(m.type));
  out.append(R"(","createdAt":")");
  common::append_iso8601_ms(m.created_at_ms, out);
  out.push_back('"');
  if (m.reply_to_id > 0) {
    out.append(R"(,"replyToId":)");
    append_json_int(m.reply_to_id, out);
    if (m.thread_root_id > 0) {
      out.append(R"(,"threadRootId":)");
      append_json_int(m.thread_root_id, out);
    }
  }
  if (m.attachment) {
    out.append(R"(,"attachment":)");
    append_json(*m.attachment, out);
  }
  if (m.forwarded_from) {
    out.append(R"(,"forwardedFrom":{"roomId":)");
    append_json_int(m.forwarded_from->room_id, out);
    out.append(R"(,"messageId":)");
    append_json_int(m.forwarded_from->message_id, out);
    out.append(R"(,"senderNickname":)");
    append_json_string(m.forwarded_from->sender_nickname, out);
    out.push_back('}');
  }
  if (m.scheduled_for_ms) {
    out.append(R"(,"scheduledFor":")");
    common::append_iso8601_ms(*m.scheduled_for_ms, out);
    out.push_back('"');
  }
  if (m.state) append_state(*m.state, out);
  out.push_back('}');
}

namespace detail {

namespace {

// The members of a room-administration event (is_admin_event) after the common ones.
validation_error read_admin_fields(const json& doc, chat_message& m, std::size_t max_content_code_points) {
  const std::string* text = nullptr;
  if (is_member_event(m.event)) {
    if (auto error = read_int64(doc, "userId", 1, m.user_id)) return error;
  }
  if (auto error = read_optional_string(doc, "role", text)) return error;
  if (text != nullptr) {
    const auto role = parse_room_role(*text);
    if (!role) return make_error(errc::bad_format, "role", "role must be OWNER, ADMIN or MEMBER");
    if (has_role(m.event)) m.role = *role;
  } else if (m.event == event_kind::member_role) {
    return make_error(errc::missing_field, "role", "member.role needs a role");
  }
  if (m.event == event_kind::room_updated) {
    if (auto error = read_optional_string(doc, "name", text)) return error;
    if (text != nullptr) {
      if (is_blank(*text)) return make_error(errc::bad_length, "name", "name must not be blank");
      if (auto error = check_max_code_points(*text, "name", max_room_name_code_points)) return error;
      m.name = *text;
    }
    if (auto error = read_optional_string(doc, "notice", text)) return error;
    if (text != nullptr) {
      if (auto error = check_max_code_points(*text, "notice", max_notice_code_points)) return error;
      m.notice = *text;
    }
    if (!m.name && !m.notice) return make_error(errc::missing_field, "name", "room.updated needs a name or a notice");
  }
  if (auto error = read_string(doc, "content", text)) return error;
  if (auto error = check_max_code_points(*text, "content", max_content_code_points)) return error;
  m.content = *text;
  if (auto error = read_optional_string(doc, "type", text)) return error;
  if (text != nullptr && *text != "SYSTEM") {
    return make_error(errc::bad_format, "type", "a room administration event is of type SYSTEM");
  }
  m.type = message_type::system;
  return {};
}

}  // namespace

validation_error read_chat_message(const json& doc, chat_message& out, std::size_t max_content_code_points) {
  if (!doc.is_object()) return make_error(errc::wrong_type, {}, "a message must be a JSON object");
  chat_message m;
  if (find_member(doc, "id", /*null_is_absent=*/true) != nullptr) {
    if (auto error = read_int64(doc, "id", 0, m.id)) return error;
  }
  const std::string* text = nullptr;
  if (auto error = read_optional_string(doc, "event", text)) return error;
  if (text != nullptr) {
    const auto kind = parse_event_kind(*text);
    if (!kind) return make_error(errc::bad_format, "event", "event is not a known room event");
    m.event = *kind;
  }
  if (auto error = read_string(doc, "messageKey", text)) return error;
  if (auto error = check_uuid(*text, "messageKey", m.message_key)) return error;
  if (auto error = read_int64(doc, "roomId", 1, m.room_id)) return error;
  if (auto error = read_int64(doc, "senderId", 1, m.sender_id)) return error;
  if (auto error = read_string(doc, "senderNickname", text)) return error;
  m.sender_nickname = *text;
  if (auto error = read_timestamp(doc, "createdAt", m.created_at_ms)) return error;

  if (is_admin_event(m.event)) {
    if (auto error = read_admin_fields(doc, m, max_content_code_points)) return error;
    out = std::move(m);
    return {};
  }
  if (m.event != event_kind::message) {
    if (auto error = read_int64(doc, "targetId", 0, m.target_id)) return error;
    if (has_content(m.event)) {
      if (auto error = read_string(doc, "content", text)) return error;
      if (auto error = check_max_code_points(*text, "content", max_content_code_points)) return error;
      if (is_blank(*text)) return make_error(errc::bad_length, "content", "content must not be blank");
      m.content = *text;
    }
    if (has_emoji(m.event)) {
      if (auto error = read_string(doc, "emoji", text)) return error;
      if (auto error = check_emoji(*text)) return error;
      m.emoji = *text;
    }
    if (m.event == event_kind::preview) {
      const json* preview = find_member(doc, "preview", /*null_is_absent=*/true);
      if (preview == nullptr) return make_error(errc::missing_field, "preview", "message.preview needs a preview");
      link_preview value;
      if (auto error = read_link_preview(*preview, value)) return error;
      m.preview = std::move(value);
    }
    out = std::move(m);
    return {};
  }

  if (auto error = read_string(doc, "content", text)) return error;
  if (auto error = check_max_code_points(*text, "content", max_content_code_points)) return error;
  m.content = *text;
  if (auto error = read_string(doc, "type", text)) return error;
  const auto type = parse_message_type(*text);
  if (!type) return make_error(errc::bad_format, "type", "type must be TEXT, IMAGE, FILE or SYSTEM");
  m.type = *type;
  if (auto error = read_optional_int64(doc, "replyToId", 1, m.reply_to_id)) return error;
  if (auto error = read_optional_int64(doc, "threadRootId", 1, m.thread_root_id)) return error;
  if (m.thread_root_id > 0 && m.reply_to_id == 0) {
    return make_error(errc::missing_field, "replyToId", "threadRootId needs replyToId");
  }
  if (const json* a = find_member(doc, "attachment", /*null_is_absent=*/true)) {
    if (!has_attachment(m.type)) {
      return make_error(errc::not_allowed, "attachment", "only IMAGE and FILE messages carry an attachment");
    }
    file_attachment value;
    if (auto error = read_attachment(*a, value)) return error;
    m.attachment = std::move(value);
  }
  if (const json* f = find_member(doc, "forwardedFrom", /*null_is_absent=*/true)) {
    forward_origin value;
    if (auto error = read_forward_origin(*f, value)) return error;
    m.forwarded_from = std::move(value);
  }
  if (auto error = read_optional_timestamp(doc, "scheduledFor", m.scheduled_for_ms)) return error;
  if (find_member(doc, "deleted", /*null_is_absent=*/true) != nullptr) {
    message_state state;
    if (auto error = read_state(doc, state)) return error;
    m.state = std::move(state);
  }
  // A deleted message has lost its attachment; any other IMAGE or FILE must have one.
  if (has_attachment(m.type) && !m.attachment && !(m.state && m.state->deleted)) {
    return make_error(errc::missing_field, "attachment", "IMAGE and FILE messages need an attachment");
  }
  out = std::move(m);
  return {};
}

}  // namespace detail

validation_error parse_chat_message(std::string_view json, chat_message& out, std::size_t max_content_code_points) {
  detail::json doc;
  if (auto error = detail::parse_object(json, doc)) return error;
  return detail::read_chat_message(doc, out, max_content_code_points);
}

namespace {

std::string_view change_word(membership_change change) noexcept {
  switch (change) {
    case membership_change::joined: return "joined";
    case membership_change::left: return "left";
  }
  return "joined";
}

chat_message admin_event(std::int64_t room_id, std::int64_t actor, std::string_view actor_nickname, event_kind kind) {
  chat_message m;
  m.event = kind;
  m.room_id = room_id;
  m.sender_id = actor;
  m.sender_nickname = std::string(actor_nickname);
  m.type = message_type::system;
  return m;
}

// A SYSTEM message of before the administration events: "<sender nickname> <word>", exactly.
bool is_legacy_notice(const chat_message& m, membership_change change) {
  if (m.event != event_kind::message || m.type != message_type::system) return false;
  const std::string_view word = change_word(change);
  const std::string_view content = m.content;
  return content.size() == m.sender_nickname.size() + 1 + word.size() && content.starts_with(m.sender_nickname) &&
         content[m.sender_nickname.size()] == ' ' && content.ends_with(word);
}

}  // namespace

chat_message membership_notice(std::int64_t room_id, std::int64_t user_id, std::string_view nickname,
                               membership_change change) {
  chat_message m =
      admin_event(room_id, user_id, nickname,
                  change == membership_change::joined ? event_kind::member_joined : event_kind::member_left);
  m.user_id = user_id;
  if (change == membership_change::joined) m.role = room_role::member;
  m.content = std::string(nickname);
  m.content.push_back(' ');
  m.content.append(change_word(change));
  return m;
}

chat_message member_removed_notice(std::int64_t room_id, std::int64_t actor, std::string_view actor_nickname,
                                   std::int64_t user_id, std::string_view nickname) {
  chat_message m = admin_event(room_id, actor, actor_nickname, event_kind::member_removed);
  m.user_id = user_id;
  m.content = std::string(actor_nickname) + " removed " + std::string(nickname);
  return m;
}

chat_message member_role_notice(std::int64_t room_id, std::int64_t actor, std::string_view actor_nickname,
                                std::int64_t user_id, std::string_view nickname, room_role role) {
  chat_message m = admin_event(room_id, actor, actor_nickname, event_kind::member_role);
  m.user_id = user_id;
  m.role = role;
  m.content = std::string(nickname);
  switch (role) {
    case room_role::owner: m.content += " is now the owner"; break;
    case room_role::admin: m.content += " is now an admin"; break;
    case room_role::member: m.content += " is now a member"; break;
  }
  return m;
}

chat_message room_updated_notice(std::int64_t room_id, std::int64_t actor, std::string_view actor_nickname,
                                 std::optional<std::string> name, std::optional<std::string> notice) {
  chat_message m = admin_event(room_id, actor, actor_nickname, event_kind::room_updated);
  m.content = std::string(actor_nickname);
  if (name) m.content += " renamed the room to " + *name;
  if (notice) {
    if (name) m.content += " and";
    m.content += notice->empty() ? " cleared the notice" : " changed the notice";
  }
  m.name = std::move(name);
  m.notice = std::move(notice);
  return m;
}

chat_message room_deleted_notice(std::int64_t room_id, std::int64_t actor, std::string_view actor_nickname) {
  chat_message m = admin_event(room_id, actor, actor_nickname, event_kind::room_deleted);
  m.content = std::string(actor_nickname) + " deleted the room";
  return m;
}

std::optional<std::int64_t> departed_member(const chat_message& m) {
  switch (m.event) {
    case event_kind::member_left:
    case event_kind::member_removed: return m.user_id;
    case event_kind::message:
      if (is_legacy_notice(m, membership_change::left)) return m.sender_id;
      return std::nullopt;
    case event_kind::edited:
    case event_kind::deleted:
    case event_kind::reaction_added:
    case event_kind::reaction_removed:
    case event_kind::pinned:
    case event_kind::preview:
    case event_kind::unpinned:
    case event_kind::room_updated:
    case event_kind::member_joined:
    case event_kind::member_role:
    case event_kind::room_deleted: return std::nullopt;
  }
  return std::nullopt;
}

std::optional<std::int64_t> joined_member(const chat_message& m) {
  if (m.event == event_kind::member_joined) return m.user_id;
  if (is_legacy_notice(m, membership_change::joined)) return m.sender_id;
  return std::nullopt;
}

chat_message as_history_notice(const chat_message& event) {
  chat_message m;
  m.id = event.id;
  m.message_key = event.message_key;
  m.room_id = event.room_id;
  m.sender_id = event.sender_id;
  m.sender_nickname = event.sender_nickname;
  m.content = event.content;
  m.type = message_type::system;
  m.created_at_ms = event.created_at_ms;
  return m;
}

}  // namespace chat::proto
