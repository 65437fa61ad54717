#include "commands/common.hpp"

#include "core/exit_codes.hpp"
#include "core/message_text.hpp"

#include <chat/common/time.hpp>
#include <chat/proto/ids.hpp>
#include <chat/proto/json.hpp>

namespace chatctl {

namespace client = chat::client;
namespace proto = chat::proto;
using json = nlohmann::ordered_json;

std::string examples(std::initializer_list<const char*> lines) {
  std::string out = "\nExample:";
  for (const char* line : lines) {
    out += "\n  ";
    out += line;
  }
  return out;
}

std::int64_t resolve_room(context& ctx, const std::string& spec) {
  if (const auto id = proto::parse_positive_id(spec)) return *id;
  if (spec.empty()) fail(exit_code::usage, "ROOM: expected a room id or a group name");
  auto& api = ctx.api();
  const auto rooms = api.list_rooms();
  if (!rooms) fail_response(rooms.http, "cannot look up room '" + spec + "'", ctx.server_text());
  std::vector<std::int64_t> matches;
  for (const auto& r : *rooms.value) {
    if (r.name && *r.name == spec) matches.push_back(r.id);
  }
  if (matches.empty()) fail(exit_code::not_found, "no room named '" + spec + "' among your rooms");
  if (matches.size() > 1) {
    std::string ids;
    for (const auto id : matches) ids += (ids.empty() ? "" : ", ") + std::to_string(id);
    fail(exit_code::error, "several rooms are named '" + spec + "' (" + ids + "); use the id");
  }
  return matches.front();
}

std::int64_t resolve_user(context& ctx, const std::string& spec) {
  if (const auto id = proto::parse_positive_id(spec)) return *id;
  if (spec.find('@') == std::string::npos) {
    fail(exit_code::usage, "'" + spec + "' is neither a user id nor an email address");
  }
  const auto user = ctx.api().user_by_email(spec);
  if (!user) {
    if (!user.http.error && user.http.status == 404) fail(exit_code::not_found, "no user with email " + spec);
    fail_response(user.http, "cannot look up " + spec, ctx.server_text());
  }
  return user.value->id;
}

std::vector<std::int64_t> resolve_users(context& ctx, const std::vector<std::string>& specs) {
  std::vector<std::int64_t> ids;
  ids.reserve(specs.size());
  for (const auto& s : specs) ids.push_back(resolve_user(ctx, s));
  return ids;
}

client::room_info fetch_room(context& ctx, std::int64_t room_id) {
  auto r = ctx.api().room(room_id);
  if (!r) fail_response(r.http, "room " + std::to_string(room_id), ctx.server_text());
  return std::move(*r.value);
}

std::string room_view_json(const client::room_info& room) {
  json members = json::array();
  for (const auto& m : room.members) {
    json member{{"userId", m.user_id}, {"nickname", m.nickname}};
    if (m.role) member["role"] = proto::to_string(*m.role);
    members.push_back(std::move(member));
  }
  return compact_json({{"id", room.id},
                       {"type", proto::to_string(room.type)},
                       {"name", room.name ? json(*room.name) : json(nullptr)},
                       {"createdBy", room.created_by},
                       {"notice", room.notice ? json(*room.notice) : json(nullptr)},
                       {"pinned", room.pinned},
                       {"members", std::move(members)}});
}

std::string display_name(const std::optional<std::string>& name, proto::room_type type) {
  if (name) return *name;
  switch (type) {
    case proto::room_type::direct: return "(direct)";
    case proto::room_type::group: return "-";
  }
  return "-";
}

void print_room(context& ctx, const client::room_info& room) {
  auto& out = ctx.out();
  if (out.fmt() != format::table) return out.document_text(room_view_json(room));
  std::string members;
  for (const auto& m : room.members) {
    if (!members.empty()) members += ", ";
    members += m.nickname + " (" + std::to_string(m.user_id);
    // Roles of a group room; both members of a DIRECT room are its admins (nothing to show).
    if (m.role && room.type == proto::room_type::group && *m.role != proto::room_role::member) {
      members += ", " + std::string(*m.role == proto::room_role::owner ? "owner" : "admin");
    }
    members += ")";
  }
  std::string pinned;
  for (const auto id : room.pinned) pinned += (pinned.empty() ? "" : ", ") + std::to_string(id);
  std::vector<std::pair<std::string, std::string>> fields{{"ID", std::to_string(room.id)},
                                                          {"TYPE", std::string(proto::to_string(room.type))},
                                                          {"NAME", display_name(room.name, room.type)},
                                                          {"CREATED BY", std::to_string(room.created_by)}};
  if (room.notice) fields.emplace_back("NOTICE", *room.notice);
  if (!pinned.empty()) fields.emplace_back("PINNED", pinned);
  fields.emplace_back("MEMBERS", members);
  out.fields(fields);
}

std::string short_time(const proto::chat_message& m) {
  std::string iso;
  chat::common::append_iso8601_ms(m.created_at_ms, iso);
  // 2026-11-21T12:00:00.123Z -> 2026-11-21 12:00:00
  if (iso.size() >= 19) {
    iso[10] = ' ';
    iso.resize(19);
  }
  return iso;
}

void print_message_row(context& ctx, const proto::chat_message& m) {
  auto& out = ctx.out();
  const bool system = m.type == proto::message_type::system;
  // Events other than messages (tail: edits, deletes, reactions, pins) and tombstones are dimmed.
  const bool faint = system || m.event != proto::event_kind::message || (m.state && m.state->deleted);
  out.row({std::to_string(m.id), short_time(m), m.sender_nickname, event_text(m)}, {13, 19, 12, 0},
          {style::dim, style::dim, faint ? style::dim : style::cyan, faint ? style::dim : style::plain});
}

}  // namespace chatctl
