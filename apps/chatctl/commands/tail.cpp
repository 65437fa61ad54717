// tail ROOM: follow a room live over STOMP until Ctrl-C (or --count N events). Every room event is
// printed: messages, and edits, deletes, reactions and pins as one line saying what happened
// (core/message_text.hpp), and members' read marks (chat-event:read) as a dimmed "✓ bob read up to
// ID" line; json/jsonl print the event JSON as it arrives.
#include "commands/commands.hpp"
#include "commands/common.hpp"
#include "commands/live_session.hpp"
#include "core/exit_codes.hpp"

#include <chat/proto/events.hpp>
#include <chat/proto/names.hpp>

#include <boost/asio/signal_set.hpp>
#include <CLI/CLI.hpp>

#include <csignal>

namespace chatctl {

namespace client = chat::client;
namespace proto = chat::proto;
using namespace std::chrono_literals;

namespace {

struct tail_options {
  std::string room;
  int count = 0;  // 0 = until interrupted
};

void live_disconnect(live_session& live) { live.disconnect(); }

// A member's read mark moved (chat-event:read, docs/stomp.md): a dimmed line in the table, the
// event JSON as it arrives otherwise. Not a room event: --count does not count it.
void print_read_event(context& ctx, const chat::client::room_info& room, std::string_view body) {
  proto::read_event read;
  if (proto::parse_read_event(body, read)) {
    ctx.warn("skipping a read event that does not parse: " + sanitize(body.substr(0, 120)));
    return;
  }
  auto& out = ctx.out();
  if (out.fmt() != format::table) return out.line(proto::to_json(read));
  std::string who = "user " + std::to_string(read.user_id);
  for (const auto& m : room.members) {
    if (m.user_id == read.user_id) who = m.nickname;
  }
  out.row({"", "", "", "\u2713 " + who + " read up to " + std::to_string(read.last_read_message_id)}, {13, 19, 12, 0},
          {style::dim, style::dim, style::dim, style::dim});
}

void tail(context& ctx, const tail_options& o) {
  const auto room_id = resolve_room(ctx, o.room);
  // 401/403/404 as exit codes before opening a session; the members name read events.
  const auto room = fetch_room(ctx, room_id);

  live_session live(ctx);
  auto& stomp = live.stomp();
  boost::asio::signal_set signals(stomp.context(), SIGINT, SIGTERM);
  signals.async_wait([&stomp](const boost::system::error_code& ec, int) {
    if (!ec) stomp.interrupt();
  });

  // Ctrl-C while connecting or subscribing ends tail as quietly as it would later.
  if (!live.connect()) return;
  if (!live.subscribe(proto::room_destination(room_id), "room")) return live_disconnect(live);
  ctx.note("Following room " + std::to_string(room_id) +
           (o.count > 0 ? " for " + std::to_string(o.count) + " event(s)" : std::string(" (Ctrl-C to stop)")));

  auto& out = ctx.out();
  int seen = 0;
  while (o.count == 0 || seen < o.count) {
    auto f = stomp.next_message(std::chrono::steady_clock::now() + 24h);
    if (!f) {
      if (stomp.last_wait() == client::blocking_stomp::wait_status::interrupted) break;
      if (stomp.last_wait() == client::blocking_stomp::wait_status::timeout) continue;
      live.fail_closed("lost room " + std::to_string(room_id));
    }
    if (f->get("chat-event") == proto::read_event_name) {
      print_read_event(ctx, room, f->body);
      continue;
    }
    proto::chat_message m;
    if (proto::parse_chat_message(f->body, m, static_cast<std::size_t>(-1))) {
      ctx.warn("skipping a message that is not a chat message: " + sanitize(f->body.substr(0, 120)));
      continue;
    }
    // json and jsonl alike: one JSON object per line, as messages arrive.
    if (out.fmt() == format::table) {
      print_message_row(ctx, m);
    } else {
      out.line(chat::proto::to_json(m));
    }
    ++seen;
  }
  // A second Ctrl-C during the goodbye ends the process the default way.
  signals.clear();
  live_disconnect(live);
}

}  // namespace

void add_tail_command(CLI::App& app, context& ctx) {
  auto o = std::make_shared<tail_options>();
  auto* sub = app.add_subcommand("tail", "Follow a room live over STOMP until Ctrl-C");
  sub->add_option("ROOM", o->room, "room id, or the name of one of your group rooms")->required();
  sub->add_option("--count", o->count, "stop after N room events (messages, edits, deletes, reactions, pins)")
      ->check(CLI::PositiveNumber)
      ->type_name("N");
  sub->footer(examples({"chatctl tail 42", "chatctl tail ops --count 1 -o jsonl | jq -r .content"}));
  on_run(sub, ctx, o, tail);
}

}  // namespace chatctl
