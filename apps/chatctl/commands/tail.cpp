// tail ROOM: follow a room live over STOMP until Ctrl-C (or --count N events). Every room event is
// printed: messages, and edits, deletes, reactions and pins as one line saying what happened
// (core/message_text.hpp); json/jsonl print the event JSON as it arrives.
#include "commands/commands.hpp"
#include "commands/common.hpp"
#include "commands/live_session.hpp"
#include "core/exit_codes.hpp"

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

void tail(context& ctx, const tail_options& o) {
  const auto room_id = resolve_room(ctx, o.room);
  fetch_room(ctx, room_id);  // 401/403/404 as exit codes before opening a session

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
