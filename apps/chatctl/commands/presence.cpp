// presence ROOM: who of the room's members is online (docs/rest.md /members/online)
// reads ROOM: how far each member has read (docs/rest.md /reads)
#include "commands/commands.hpp"
#include "commands/common.hpp"
#include "core/exit_codes.hpp"

#include <CLI/CLI.hpp>

#include <unordered_set>

namespace chatctl {

using json = nlohmann::ordered_json;

namespace {

struct presence_options {
  std::string room;
  bool all = false;
};

void presence(context& ctx, const presence_options& o) {
  const auto room_id = resolve_room(ctx, o.room);
  const auto room = fetch_room(ctx, room_id);
  auto online = ctx.api().online_members(room_id);
  if (!online) fail_response(online.http, "cannot read presence in room " + std::to_string(room_id), ctx.server_text());
  const std::unordered_set<std::int64_t> on(online.value->begin(), online.value->end());

  std::vector<json> items;
  std::vector<std::vector<std::string>> rows;
  for (const auto& m : room.members) {
    const bool is_online = on.contains(m.user_id);
    if (!is_online && !o.all) continue;
    const char* status = is_online ? "ONLINE" : "OFFLINE";
    items.push_back({{"userId", m.user_id}, {"nickname", m.nickname}, {"status", status}});
    rows.push_back(
        {std::to_string(m.user_id), m.nickname, ctx.out().styled(status, is_online ? style::green : style::dim)});
  }
  // Online users the room listing did not name (joined a moment ago).
  for (const auto id : *online.value) {
    bool known = false;
    for (const auto& m : room.members) known = known || m.user_id == id;
    if (known) continue;
    items.push_back({{"userId", id}, {"nickname", nullptr}, {"status", "ONLINE"}});
    rows.push_back({std::to_string(id), "", "ONLINE"});
  }
  auto& out = ctx.out();
  if (out.fmt() != format::table) return out.list(items);
  out.table({"USER ID", "NICKNAME", "STATUS"}, rows);
}

struct reads_options {
  std::string room;
};

void reads(context& ctx, const reads_options& o) {
  const auto room_id = resolve_room(ctx, o.room);
  const auto room = fetch_room(ctx, room_id);
  auto marks = ctx.api().reads(room_id);
  if (!marks)
    fail_response(marks.http, "cannot read the read marks of room " + std::to_string(room_id), ctx.server_text());

  std::vector<json> items;
  std::vector<std::vector<std::string>> rows;
  for (const auto& r : *marks.value) {
    json nickname = nullptr;  // a member the room listing did not name (joined a moment ago)
    for (const auto& m : room.members) {
      if (m.user_id == r.user_id) nickname = m.nickname;
    }
    items.push_back({{"userId", r.user_id}, {"nickname", nickname}, {"lastReadMessageId", r.last_read_message_id}});
    // 0 is "nothing read yet" (docs/events.md: message 0 always counts as unread).
    rows.push_back(
        {std::to_string(r.user_id), nickname.is_string() ? nickname.get<std::string>() : "",
         r.last_read_message_id == 0 ? ctx.out().styled("-", style::dim) : std::to_string(r.last_read_message_id)});
  }
  auto& out = ctx.out();
  if (out.fmt() != format::table) return out.list(items);
  out.table({"USER ID", "NICKNAME", "LAST READ"}, rows);
}

}  // namespace

void add_reads_command(CLI::App& app, context& ctx) {
  auto o = std::make_shared<reads_options>();
  auto* sub = app.add_subcommand("reads", "List how far each member of the room has read");
  sub->add_option("ROOM", o->room, "room id, or the name of one of your group rooms")->required();
  sub->footer(
      examples({"chatctl reads 42", "chatctl reads ops -o json | jq '.[] | select(.lastReadMessageId >= 123)'"}));
  on_run(sub, ctx, o, reads);
}

void add_presence_command(CLI::App& app, context& ctx) {
  auto o = std::make_shared<presence_options>();
  auto* sub = app.add_subcommand("presence", "List the room's members who are online");
  sub->add_option("ROOM", o->room, "room id, or the name of one of your group rooms")->required();
  sub->add_flag("--all", o->all, "list offline members too");
  sub->footer(examples({"chatctl presence 42", "chatctl presence ops --all -o json"}));
  on_run(sub, ctx, o, presence);
}

}  // namespace chatctl
