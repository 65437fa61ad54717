#include "api/render.hpp"

#include <chat/proto/people.hpp>
#include <chat/proto/rest.hpp>

namespace chat::chatd::api {
namespace {

proto::room_type to_proto(store::room_type type) noexcept {
  switch (type) {
    case store::room_type::direct: return proto::room_type::direct;
    case store::room_type::group: return proto::room_type::group;
  }
  return proto::room_type::group;
}

proto::room to_proto(const store::room_detail& room) {
  proto::room out{room.id, to_proto(room.type), room.name,  room.created_by, room.created_at_ms,
                  {},      room.notice,         room.pinned};
  out.members.reserve(room.members.size());
  for (const auto& m : room.members) out.members.push_back({m.user_id, m.nickname, m.role});
  return out;
}

}  // namespace

std::string render_session(const store::user_record& user, const std::string& token, const std::string& refresh_token,
                           std::int64_t expires_in) {
  return proto::to_json(proto::session{token, user.id, user.email, user.nickname, refresh_token, expires_in});
}

std::string render_me(const store::user_record& user) {
  return proto::to_json(
      proto::user{user.id, user.email, user.nickname, user.created_at_ms, user.status_message, user.avatar_url});
}

proto::profile profile_of(const store::person& person, bool online) {
  return proto::profile{person.id,         person.nickname, person.status_message,
                        person.avatar_url, online,          online ? std::nullopt : person.last_seen_at_ms};
}

std::string render_user_ref(const store::user_record& user) {
  return proto::to_json(proto::user_ref{user.id, user.nickname});
}

std::string render_room(const store::room_detail& room) { return proto::to_json(to_proto(room)); }

std::string render_room_after_invite(const store::room_detail& room, const std::vector<store::room_member>& added) {
  proto::invite_result result{to_proto(room), {}};
  result.added.reserve(added.size());
  for (const auto& m : added) result.added.push_back(m.user_id);
  return proto::to_json(result);
}

std::string render_room_list(const std::vector<store::room_summary>& rooms) {
  std::string out;
  std::size_t estimate = 2;
  for (const auto& r : rooms) estimate += 160 + (r.last_message ? 256 + r.last_message->content.size() : 0);
  out.reserve(estimate);
  std::vector<proto::room_summary> items;
  items.reserve(rooms.size());
  for (const auto& r : rooms) {
    items.push_back({r.id, to_proto(r.type), r.name, r.member_count, r.unread_count, r.last_message});
  }
  proto::append_json(std::span<const proto::room_summary>(items), out);
  return out;
}

std::string render_history(const store::history_page& page) {
  std::string out;
  std::size_t estimate = 64;
  for (const auto& m : page.messages) estimate += 224 + m.sender_nickname.size() + m.content.size();
  out.reserve(estimate);
  // nextCursor: the id to continue below, only while there is more.
  std::optional<std::int64_t> next_cursor;
  if (page.has_more && !page.messages.empty()) next_cursor = page.messages.back().id;
  proto::append_history_page_json(page.messages, page.has_more, next_cursor, out);
  return out;
}

std::string render_event_accepted(std::int64_t id, const std::string& message_key) {
  std::string out;
  out.reserve(80);
  out.append(R"({"id":)");
  proto::append_json_int(id, out);
  out.append(R"(,"messageKey":)");
  proto::append_json_string(message_key, out);
  out.push_back('}');
  return out;
}

namespace {

std::size_t size_estimate(const std::vector<proto::chat_message>& items) {
  std::size_t estimate = 64;
  for (const auto& m : items) estimate += 320 + m.sender_nickname.size() + m.content.size();
  return estimate;
}

void append_items(const std::vector<proto::chat_message>& items, std::string& out) {
  out.push_back('[');
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i != 0) out.push_back(',');
    proto::append_json(items[i], out);
  }
  out.push_back(']');
}

}  // namespace

std::string render_items(const std::vector<proto::chat_message>& items) {
  std::string out;
  out.reserve(size_estimate(items));
  append_items(items, out);
  return out;
}

std::string render_page(const std::vector<proto::chat_message>& messages, bool has_more) {
  std::string out;
  out.reserve(size_estimate(messages));
  std::optional<std::int64_t> next_cursor;
  if (has_more && !messages.empty()) next_cursor = messages.back().id;
  proto::append_history_page_json(messages, has_more, next_cursor, out);
  return out;
}

std::string render_bookmarks(const std::vector<proto::chat_message>& items, bool has_more) {
  std::string out;
  out.reserve(size_estimate(items));
  out.append(R"({"items":)");
  append_items(items, out);
  out.append(R"(,"nextCursor":)");
  if (has_more && !items.empty()) {
    proto::append_json_int(items.back().id, out);
  } else {
    out.append("null");
  }
  out.push_back('}');
  return out;
}

std::string render_unread(const store::unread_state& state) {
  return proto::to_json(proto::unread_state{state.unread_count, state.last_read_message_id});
}

std::string render_reads(const std::vector<proto::member_read>& reads) {
  std::string out;
  out.reserve(2 + reads.size() * 48);
  proto::append_json(std::span<const proto::member_read>(reads), out);
  return out;
}

std::string render_ids(const std::vector<std::int64_t>& ids) {
  std::string out;
  out.reserve(2 + ids.size() * 8);
  proto::append_json(std::span<const std::int64_t>(ids), out);
  return out;
}

std::string render_read_accepted(std::int64_t room_id, std::int64_t last_read_message_id) {
  return proto::to_json(proto::read_accepted{room_id, last_read_message_id});
}

}  // namespace chat::chatd::api
