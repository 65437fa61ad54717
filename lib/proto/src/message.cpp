#include <chat/proto/message.hpp>

#include "json_input.hpp"

#include <chat/common/time.hpp>

namespace chat::proto {

std::string_view to_string(message_type type) noexcept {
  switch (type) {
    case message_type::text: return "TEXT";
    case message_type::system: return "SYSTEM";
  }
  return "TEXT";
}

std::optional<message_type> parse_message_type(std::string_view text) noexcept {
  if (text == "TEXT") return message_type::text;
  if (text == "SYSTEM") return message_type::system;
  return std::nullopt;
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
  out.append(R"("messageKey":)");
  append_json_string(m.message_key, out);
  out.append(R"(,"roomId":)");
  append_json_int(m.room_id, out);
  out.append(R"(,"senderId":)");
  append_json_int(m.sender_id, out);
  out.append(R"(,"senderNickname":)");
  append_json_string(m.sender_nickname, out);
  out.append(R"(,"content":)");
  append_json_string(m.content, out);
  out.append(R"(,"type":")");
  out.append(to_string(m.type));
  out.append(R"(","createdAt":")");
  common::append_iso8601_ms(m.created_at_ms, out);
  out.append("\"}");
}

namespace detail {

validation_error read_chat_message(const json& doc, chat_message& out, std::size_t max_content_code_points) {
  if (!doc.is_object()) return make_error(errc::wrong_type, {}, "a message must be a JSON object");
  chat_message m;
  if (find_member(doc, "id", /*null_is_absent=*/true) != nullptr) {
    if (auto error = read_int64(doc, "id", 0, m.id)) return error;
  }
  const std::string* text = nullptr;
  if (auto error = read_string(doc, "messageKey", text)) return error;
  if (auto error = check_uuid(*text, "messageKey", m.message_key)) return error;
  if (auto error = read_int64(doc, "roomId", 1, m.room_id)) return error;
  if (auto error = read_int64(doc, "senderId", 1, m.sender_id)) return error;
  if (auto error = read_string(doc, "senderNickname", text)) return error;
  m.sender_nickname = *text;
  if (auto error = read_string(doc, "content", text)) return error;
  if (auto error = check_max_code_points(*text, "content", max_content_code_points)) return error;
  m.content = *text;
  if (auto error = read_string(doc, "type", text)) return error;
  const auto type = parse_message_type(*text);
  if (!type) return make_error(errc::bad_format, "type", "type must be TEXT or SYSTEM");
  m.type = *type;
  if (auto error = read_timestamp(doc, "createdAt", m.created_at_ms)) return error;

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
}  // namespace

chat_message membership_notice(std::int64_t room_id, std::int64_t user_id, std::string_view nickname,
                               membership_change change) {
  chat_message m;
  m.room_id = room_id;
  m.sender_id = user_id;
  m.sender_nickname = std::string(nickname);
  m.content = std::string(nickname);
  m.content.push_back(' ');
  m.content.append(change_word(change));
  m.type = message_type::system;
  return m;
}

std::optional<std::int64_t> departed_member(const chat_message& m) {
  if (m.type != message_type::system) return std::nullopt;
  const std::string_view word = change_word(membership_change::left);
  const std::string_view content = m.content;
  if (content.size() != m.sender_nickname.size() + 1 + word.size() || !content.starts_with(m.sender_nickname) ||
      content[m.sender_nickname.size()] != ' ' || !content.ends_with(word)) {
    return std::nullopt;
  }
  return m.sender_id;
}

}  // namespace chat::proto
