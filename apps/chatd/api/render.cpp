#include "api/render.hpp"

#include <chat/common/time.hpp>
#include <chat/proto/json.hpp>

namespace chat::chatd::api {
namespace {

using proto::append_json_int;
using proto::append_json_string;

void append_timestamp(std::int64_t unix_ms, std::string& out) {
  out.push_back('"');
  common::append_iso8601_ms(unix_ms, out);
  out.push_back('"');
}

void append_optional_string(const std::optional<std::string>& text, std::string& out) {
  if (text) {
    append_json_string(*text, out);
  } else {
    out += "null";
  }
}

// The room object without its closing brace, so callers may add members.
void append_room_open(const store::room_detail& room, std::string& out) {
  out += R"({"id":)";
  append_json_int(room.id, out);
  out += R"(,"type":)";
  append_json_string(store::to_string(room.type), out);
  out += R"(,"name":)";
  append_optional_string(room.name, out);
  out += R"(,"createdBy":)";
  append_json_int(room.created_by, out);
  out += R"(,"createdAt":)";
  append_timestamp(room.created_at_ms, out);
  out += R"(,"members":[)";
  for (std::size_t i = 0; i < room.members.size(); ++i) {
    if (i != 0) out.push_back(',');
    out += R"({"userId":)";
    append_json_int(room.members[i].user_id, out);
    out += R"(,"nickname":)";
    append_json_string(room.members[i].nickname, out);
    out.push_back('}');
  }
  out.push_back(']');
}

}  // namespace

std::string render_session(const store::user_record& user, const std::string& token) {
  std::string out;
  out.reserve(128 + token.size() + user.email.size() + user.nickname.size());
  out += R"({"token":)";
  append_json_string(token, out);
  out += R"(,"userId":)";
  append_json_int(user.id, out);
  out += R"(,"email":)";
  append_json_string(user.email, out);
  out += R"(,"nickname":)";
  append_json_string(user.nickname, out);
  out.push_back('}');
  return out;
}

std::string render_me(const store::user_record& user) {
  std::string out;
  out += R"({"id":)";
  append_json_int(user.id, out);
  out += R"(,"email":)";
  append_json_string(user.email, out);
  out += R"(,"nickname":)";
  append_json_string(user.nickname, out);
  out += R"(,"createdAt":)";
  append_timestamp(user.created_at_ms, out);
  out.push_back('}');
  return out;
}

std::string render_user_ref(const store::user_record& user) {
  std::string out;
  out += R"({"id":)";
  append_json_int(user.id, out);
  out += R"(,"nickname":)";
  append_json_string(user.nickname, out);
  out.push_back('}');
  return out;
}

std::string render_room(const store::room_detail& room) {
  std::string out;
  out.reserve(128 + room.members.size() * 48);
  append_room_open(room, out);
  out.push_back('}');
  return out;
}

std::string render_room_after_invite(const store::room_detail& room, const std::vector<store::room_member>& added) {
  std::string out;
  out.reserve(160 + room.members.size() * 48);
  append_room_open(room, out);
  out += R"(,"added":[)";
  for (std::size_t i = 0; i < added.size(); ++i) {
    if (i != 0) out.push_back(',');
    append_json_int(added[i].user_id, out);
  }
  out += "]}";
  return out;
}

std::string render_room_list(const std::vector<store::room_summary>& rooms) {
  std::string out;
  std::size_t estimate = 2;
  for (const auto& r : rooms) estimate += 160 + (r.last_message ? 256 + r.last_message->content.size() : 0);
  out.reserve(estimate);
  out.push_back('[');
  for (std::size_t i = 0; i < rooms.size(); ++i) {
    const auto& r = rooms[i];
    if (i != 0) out.push_back(',');
    out += R"({"id":)";
    append_json_int(r.id, out);
    out += R"(,"type":)";
    append_json_string(store::to_string(r.type), out);
    out += R"(,"name":)";
    append_optional_string(r.name, out);
    out += R"(,"memberCount":)";
    append_json_int(r.member_count, out);
    out += R"(,"unreadCount":)";
    append_json_int(r.unread_count, out);
    out += R"(,"lastMessage":)";
    if (r.last_message) {
      proto::append_json(*r.last_message, out);
    } else {
      out += "null";
    }
    out.push_back('}');
  }
  out.push_back(']');
  return out;
}

std::string render_history(const store::history_page& page) {
  std::string out;
  std::size_t estimate = 64;
  for (const auto& m : page.messages) estimate += 224 + m.sender_nickname.size() + m.content.size();
  out.reserve(estimate);
  out += R"({"messages":[)";
  for (std::size_t i = 0; i < page.messages.size(); ++i) {
    if (i != 0) out.push_back(',');
    proto::append_json(page.messages[i], out);
  }
  out += R"(],"hasMore":)";
  out += page.has_more ? "true" : "false";
  out += R"(,"nextCursor":)";
  if (page.has_more && !page.messages.empty()) {
    append_json_int(page.messages.back().id, out);
  } else {
    out += "null";
  }
  out.push_back('}');
  return out;
}

std::string render_unread(const store::unread_state& state) {
  std::string out;
  out += R"({"unreadCount":)";
  append_json_int(state.unread_count, out);
  out += R"(,"lastReadMessageId":)";
  append_json_int(state.last_read_message_id, out);
  out.push_back('}');
  return out;
}

std::string render_ids(const std::vector<std::int64_t>& ids) {
  std::string out;
  out.reserve(2 + ids.size() * 8);
  out.push_back('[');
  for (std::size_t i = 0; i < ids.size(); ++i) {
    if (i != 0) out.push_back(',');
    append_json_int(ids[i], out);
  }
  out.push_back(']');
  return out;
}

std::string render_read_accepted(std::int64_t room_id, std::int64_t last_read_message_id) {
  std::string out;
  out += R"({"roomId":)";
  append_json_int(room_id, out);
  out += R"(,"lastReadMessageId":)";
  append_json_int(last_read_message_id, out);
  out.push_back('}');
  return out;
}

}  // namespace chat::chatd::api
