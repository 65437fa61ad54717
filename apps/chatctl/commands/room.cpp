// room direct|group|list|show|members|invite|leave|watch, and the administration of a room
// (SPEC §16): rename|notice|role|kick|delete
#include "commands/commands.hpp"
#include "commands/common.hpp"
#include "commands/live_session.hpp"
#include "core/exit_codes.hpp"
#include "core/message_text.hpp"

#include <chat/proto/names.hpp>

#include <boost/asio/signal_set.hpp>
#include <CLI/CLI.hpp>

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <csignal>
#include <iostream>
#include <span>

namespace chatctl {

namespace client = chat::client;
using json = nlohmann::ordered_json;

namespace {

struct room_options {
  std::string room;                  // ROOM
  std::string user;                  // direct --user
  std::string name;                  // group --name
  std::vector<std::string> members;  // group/invite --member
  int count = 0;                     // watch --count (0: until interrupted)
  std::string text;                  // rename NAME, notice TEXT
  bool clear = false;                // notice --clear
  std::string role;                  // role ROLE
  bool yes = false;                  // delete --yes
};

std::vector<std::vector<std::string>> room_rows(context& ctx, const std::vector<client::room_summary>& rooms) {
  std::vector<std::vector<std::string>> rows;
  for (const auto& room : rooms) {
    std::string last;
    if (room.last_message) last = room.last_message->sender_nickname + ": " + message_text(*room.last_message);
    if (ctx.out().terminal()) last = truncate_display(sanitize(last), 60);
    rows.push_back({std::to_string(room.id), std::string(chat::proto::to_string(room.type)),
                    display_name(room.name, room.type), std::to_string(room.member_count),
                    std::to_string(room.unread_count), last});
  }
  return rows;
}

const std::vector<std::string> room_header{"ID", "TYPE", "NAME", "MEMBERS", "UNREAD", "LAST MESSAGE"};

void direct(context& ctx, const room_options& o) {
  const auto target = resolve_user(ctx, o.user);
  auto r = ctx.api().create_direct(target);
  if (!r) fail_response(r.http, "cannot open a direct room with " + o.user, ctx.server_text());
  ctx.note(r.value->created ? "Created direct room " + std::to_string(r.value->id)
                            : "Direct room " + std::to_string(r.value->id) + " already existed");
  print_room(ctx, *r.value);
}

void group(context& ctx, const room_options& o) {
  const auto ids = resolve_users(ctx, o.members);
  auto r = ctx.api().create_group(o.name, ids);
  if (!r) fail_response(r.http, "cannot create group '" + o.name + "'", ctx.server_text());
  ctx.note("Created group room " + std::to_string(r.value->id));
  print_room(ctx, *r.value);
}

void list(context& ctx) {
  auto r = ctx.api().list_rooms();
  if (!r) fail_response(r.http, "cannot list rooms", ctx.server_text());
  auto& out = ctx.out();
  if (out.fmt() != format::table) {
    std::vector<std::string> items;
    items.reserve(r.value->size());
    for (const auto& room : *r.value) items.push_back(chat::proto::to_json(room));
    return out.list_text(items);
  }
  out.table(room_header, room_rows(ctx, *r.value));
}

// The live room list (/user/queue/rooms): the list, then every change. Table: redrawn after each
// event (the screen cleared on a terminal); json/jsonl: {"event":"snapshot","rooms":[…]} first,
// then each event's JSON as it arrives, one per line.
void watch(context& ctx, const room_options& o) {
  live_session live(ctx);
  auto& stomp = live.stomp();
  boost::asio::signal_set signals(stomp.context(), SIGINT, SIGTERM);
  signals.async_wait([&stomp](const boost::system::error_code& ec, int) {
    if (!ec) stomp.interrupt();
  });
  if (!live.connect()) return;
  // Subscribed first (its RECEIPT: the list is live on the server), then the snapshot: no gap.
  if (!live.subscribe(chat::proto::destinations::user_rooms, "rooms")) {
    live.disconnect();
    return;
  }
  auto r = ctx.api().list_rooms();
  if (!r) fail_response(r.http, "cannot list rooms", ctx.server_text());
  std::vector<client::room_summary> rooms = std::move(*r.value);
  auto& out = ctx.out();
  auto draw = [&] {
    if (out.fmt() != format::table) return;
    if (out.terminal()) std::cout << "\x1b[H\x1b[2J";
    out.table(room_header, room_rows(ctx, rooms));
    std::cout.flush();
  };
  if (out.fmt() == format::table) {
    draw();
  } else {
    std::string line = R"({"event":"snapshot","rooms":)";
    chat::proto::append_json(std::span<const chat::proto::room_summary>(rooms), line);
    line.push_back('}');
    out.line(line);
  }
  ctx.note(o.count > 0 ? "Watching your rooms for " + std::to_string(o.count) + " event(s)"
                       : std::string("Watching your rooms (Ctrl-C to stop)"));
  int seen = 0;
  while (o.count == 0 || seen < o.count) {
    auto f = stomp.next_message(std::chrono::steady_clock::now() + std::chrono::hours(24));
    if (!f) {
      if (stomp.last_wait() == client::blocking_stomp::wait_status::interrupted) break;
      if (stomp.last_wait() == client::blocking_stomp::wait_status::timeout) continue;
      live.fail_closed("lost the room list");
    }
    chat::proto::room_feed_event e;
    if (chat::proto::parse_room_feed_event(f->body, e)) {
      ctx.warn("skipping an event that is not a room list event: " + sanitize(f->body.substr(0, 120)));
      continue;
    }
    ++seen;
    const auto it = std::find_if(rooms.begin(), rooms.end(), [&](const auto& x) { return x.id == e.room.id; });
    if (it != rooms.end()) rooms.erase(it);
    if (e.kind != chat::proto::room_feed_kind::removed) rooms.insert(rooms.begin(), e.room);
    if (out.fmt() == format::table) {
      draw();
    } else {
      out.line(f->body);
    }
  }
  signals.clear();
  live.disconnect();
}

void show(context& ctx, const room_options& o) { print_room(ctx, fetch_room(ctx, resolve_room(ctx, o.room))); }

void members(context& ctx, const room_options& o) {
  const auto room = fetch_room(ctx, resolve_room(ctx, o.room));
  auto& out = ctx.out();
  if (out.fmt() != format::table) {
    std::vector<std::string> items;
    items.reserve(room.members.size());
    for (const auto& m : room.members) items.push_back(chat::proto::to_json(m));
    return out.list_text(items);
  }
  std::vector<std::vector<std::string>> rows;
  for (const auto& m : room.members) {
    rows.push_back({std::to_string(m.user_id), m.nickname, m.role ? std::string(chat::proto::to_string(*m.role)) : ""});
  }
  out.table({"USER ID", "NICKNAME", "ROLE"}, rows);
}

void invite(context& ctx, const room_options& o) {
  const auto room_id = resolve_room(ctx, o.room);
  const auto ids = resolve_users(ctx, o.members);
  auto r = ctx.api().add_members(room_id, ids);
  if (!r) fail_response(r.http, "cannot invite to room " + std::to_string(room_id), ctx.server_text());
  print_room(ctx, *r.value);
}

void leave(context& ctx, const room_options& o) {
  const auto room_id = resolve_room(ctx, o.room);
  const auto r = ctx.api().leave(room_id);
  if (!r.ok()) fail_response(r, "cannot leave room " + std::to_string(room_id), ctx.server_text());
  ctx.note("Left room " + std::to_string(room_id));
  if (ctx.out().fmt() != format::table) ctx.out().document({{"roomId", room_id}, {"left", true}});
}

void rename(context& ctx, const room_options& o) {
  const auto room_id = resolve_room(ctx, o.room);
  auto r = ctx.api().update_room(room_id, o.text, std::nullopt);
  if (!r) fail_response(r.http, "cannot rename room " + std::to_string(room_id), ctx.server_text());
  ctx.note("Renamed room " + std::to_string(room_id));
  print_room(ctx, *r.value);
}

void notice(context& ctx, const room_options& o) {
  if (o.clear == !o.text.empty()) fail(exit_code::usage, "give the notice's TEXT, or --clear (not both)");
  const auto room_id = resolve_room(ctx, o.room);
  auto r = ctx.api().update_room(room_id, std::nullopt, o.text);
  if (!r) fail_response(r.http, "cannot change the notice of room " + std::to_string(room_id), ctx.server_text());
  ctx.note(o.clear ? "Cleared the notice of room " + std::to_string(room_id)
                   : "Changed the notice of room " + std::to_string(room_id));
  print_room(ctx, *r.value);
}

void role(context& ctx, const room_options& o) {
  std::string upper = o.role;
  std::transform(upper.begin(), upper.end(), upper.begin(), [](unsigned char c) { return std::toupper(c); });
  const auto wanted = chat::proto::parse_room_role(upper);
  if (!wanted) fail(exit_code::usage, "ROLE must be owner, admin or member");
  const auto room_id = resolve_room(ctx, o.room);
  const auto user_id = resolve_user(ctx, o.user);
  auto r = ctx.api().set_member_role(room_id, user_id, *wanted);
  if (!r) fail_response(r.http, "cannot change the role of " + o.user, ctx.server_text());
  ctx.note(*wanted == chat::proto::room_role::owner
               ? "Handed room " + std::to_string(room_id) + " to " + o.user + " (you are an admin now)"
               : "Made " + o.user + " " + (*wanted == chat::proto::room_role::admin ? "an admin" : "a member") +
                     " of room " + std::to_string(room_id));
  print_room(ctx, *r.value);
}

void kick(context& ctx, const room_options& o) {
  const auto room_id = resolve_room(ctx, o.room);
  const auto user_id = resolve_user(ctx, o.user);
  const auto r = ctx.api().remove_member(room_id, user_id);
  if (!r.ok()) fail_response(r, "cannot remove " + o.user + " from room " + std::to_string(room_id), ctx.server_text());
  ctx.note("Removed " + o.user + " from room " + std::to_string(room_id));
  if (ctx.out().fmt() != format::table)
    ctx.out().document({{"roomId", room_id}, {"userId", user_id}, {"removed", true}});
}

// Asks on the terminal before deleting (unless --yes); without a terminal it does not ask.
bool confirmed(const room_options& o, std::int64_t room_id) {
  if (o.yes || ::isatty(STDIN_FILENO) == 0 || ::isatty(STDERR_FILENO) == 0) return true;
  std::cerr << "Delete room " << room_id << " and its whole history for every member? [y/N] " << std::flush;
  std::string answer;
  if (!std::getline(std::cin, answer)) return false;
  return answer == "y" || answer == "Y" || answer == "yes";
}

void delete_room(context& ctx, const room_options& o) {
  const auto room_id = resolve_room(ctx, o.room);
  if (!confirmed(o, room_id)) fail(exit_code::error, "not deleted");
  const auto r = ctx.api().delete_room(room_id);
  if (!r.ok()) fail_response(r, "cannot delete room " + std::to_string(room_id), ctx.server_text());
  ctx.note("Deleted room " + std::to_string(room_id));
  if (ctx.out().fmt() != format::table) ctx.out().document({{"roomId", room_id}, {"deleted", true}});
}

CLI::App* room_sub(CLI::App* parent, const char* name, const char* help, room_options& o) {
  auto* sub = parent->add_subcommand(name, help);
  sub->add_option("ROOM", o.room, "room id, or the name of one of your group rooms")->required();
  return sub;
}

}  // namespace

void add_room_commands(CLI::App& app, context& ctx) {
  auto* room = app.add_subcommand(
      "room",
      "Rooms: create direct and group rooms, list, show, invite, leave, watch; rename, notice, role, kick, delete");
  room->alias("rooms");
  room->require_subcommand(1);
  room->footer(examples({"chatctl room list", "chatctl room group --name ops --member bo@example.com --member 12"}));
  {
    auto o = std::make_shared<room_options>();
    auto* sub = room->add_subcommand("direct", "Open (or find) the direct room with a user");
    sub->add_option("--user", o->user, "user id or email")->required()->type_name("ID|EMAIL");
    sub->footer(
        examples({"chatctl room direct --user bo@example.com", "chatctl room direct --user 12 -o json | jq .id"}));
    on_run(sub, ctx, o, direct);
  }
  {
    auto o = std::make_shared<room_options>();
    auto* sub = room->add_subcommand("group", "Create a group room (you are a member)");
    sub->add_option("--name", o->name, "room name (1-100 characters)")->required();
    sub->add_option("--member", o->members, "member to add, repeatable")->type_name("ID|EMAIL");
    sub->footer(examples({"chatctl room group --name ops --member bo@example.com --member cy@example.com"}));
    on_run(sub, ctx, o, group);
  }
  {
    auto o = std::make_shared<room_options>();
    auto* sub = room->add_subcommand("list", "List your rooms with unread counts and the last message");
    sub->footer(examples({"chatctl room list", "chatctl room list -o jsonl | jq -r 'select(.unreadCount > 0) | .id'"}));
    on_run(sub, ctx, o, [](context& c, room_options&) { list(c); });
  }
  {
    auto o = std::make_shared<room_options>();
    auto* sub = room->add_subcommand("watch", "Follow your room list live (unread counts, last messages) until Ctrl-C");
    sub->add_option("--count", o->count, "stop after N events (room.added, room.updated, room.removed)")
        ->check(CLI::PositiveNumber)
        ->type_name("N");
    sub->footer(examples({"chatctl room watch", "chatctl rooms watch -o jsonl --count 1 | jq .room.unreadCount"}));
    on_run(sub, ctx, o, watch);
  }
  {
    auto o = std::make_shared<room_options>();
    auto* sub = room_sub(room, "show", "Show a room and its members", *o);
    sub->footer(examples({"chatctl room show 42", "chatctl room show ops -o json"}));
    on_run(sub, ctx, o, show);
  }
  {
    auto o = std::make_shared<room_options>();
    auto* sub = room_sub(room, "members", "List a room's members", *o);
    sub->footer(examples({"chatctl room members 42"}));
    on_run(sub, ctx, o, members);
  }
  {
    auto o = std::make_shared<room_options>();
    auto* sub = room_sub(room, "invite", "Add members to a group room", *o);
    sub->add_option("--member", o->members, "user to add, repeatable")->required()->type_name("ID|EMAIL");
    sub->footer(examples({"chatctl room invite ops --member dee@example.com"}));
    on_run(sub, ctx, o, invite);
  }
  {
    auto o = std::make_shared<room_options>();
    auto* sub =
        room_sub(room, "leave", "Leave a group room (an owner hands the room on; the last member deletes it)", *o);
    sub->footer(examples({"chatctl room leave 42"}));
    on_run(sub, ctx, o, leave);
  }
  {
    auto o = std::make_shared<room_options>();
    auto* sub = room_sub(room, "rename", "Rename a group room (its owner and admins)", *o);
    sub->add_option("NAME", o->text, "the new name (1-100 characters)")->required();
    sub->footer(examples({"chatctl room rename ops 'ops and on-call'"}));
    on_run(sub, ctx, o, rename);
  }
  {
    auto o = std::make_shared<room_options>();
    auto* sub = room_sub(room, "notice", "Set or clear a group room's notice (its owner and admins)", *o);
    sub->add_option("TEXT", o->text, "the notice (at most 500 characters)");
    sub->add_flag("--clear", o->clear, "remove the notice");
    sub->footer(examples({"chatctl room notice ops 'deploys on Tuesdays only'", "chatctl room notice ops --clear"}));
    on_run(sub, ctx, o, notice);
  }
  {
    auto o = std::make_shared<room_options>();
    auto* sub = room_sub(room, "role", "Change a member's role (the owner; owner hands the room on)", *o);
    sub->add_option("USER", o->user, "user id or email")->required()->type_name("ID|EMAIL");
    sub->add_option("ROLE", o->role, "owner, admin or member")->required()->type_name("ROLE");
    sub->footer(examples({"chatctl room role ops bo@example.com admin", "chatctl room role ops 12 owner"}));
    on_run(sub, ctx, o, role);
  }
  {
    auto o = std::make_shared<room_options>();
    auto* sub = room_sub(room, "kick", "Remove a member from a group room (the owner; admins remove members)", *o);
    sub->add_option("USER", o->user, "user id or email")->required()->type_name("ID|EMAIL");
    sub->footer(examples({"chatctl room kick ops bo@example.com"}));
    on_run(sub, ctx, o, kick);
  }
  {
    auto o = std::make_shared<room_options>();
    auto* sub = room_sub(room, "delete", "Delete a group room and its history for everyone (the owner)", *o);
    sub->add_flag("--yes", o->yes, "do not ask (chatctl asks only on a terminal)");
    sub->footer(examples({"chatctl room delete ops --yes"}));
    on_run(sub, ctx, o, delete_room);
  }
}

}  // namespace chatctl
