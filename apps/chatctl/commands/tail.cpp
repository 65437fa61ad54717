// tail ROOM: follow a room live over STOMP until Ctrl-C (or --count N events). Every room event is
// printed: messages, and edits, deletes, reactions and pins as one line saying what happened
// (core/message_text.hpp), and members' read marks (chat-event:read) as a dimmed "✓ bob read up to
// ID" line; json/jsonl print the event JSON as it arrives.
//
// --since-id N first prints every room event after N (the server replays them: docs/stomp.md
// "Recovery"). A dropped connection is resumed: tail reconnects (250 ms, doubling up to 5 s,
// for up to 60 s) and subscribes again with since-id = the last id it printed, so nothing is
// missed and nothing is printed twice; --no-resume ends with 7 instead.
#include "commands/commands.hpp"
#include "commands/common.hpp"
#include "commands/live_session.hpp"
#include "core/exit_codes.hpp"

#include <chat/client/errc.hpp>
#include <chat/proto/events.hpp>
#include <chat/proto/names.hpp>

#include <boost/asio/signal_set.hpp>
#include <CLI/CLI.hpp>

#include <algorithm>
#include <csignal>
#include <nlohmann/json.hpp>
#include <optional>

namespace chatctl {

namespace client = chat::client;
namespace proto = chat::proto;
using namespace std::chrono_literals;

namespace {

// How long tail keeps trying to resume a dropped connection before it gives up (exit 7).
constexpr auto tail_resume_window = 60s;
constexpr auto tail_first_backoff = 250ms;
constexpr auto tail_max_backoff = 5000ms;

struct tail_options {
  std::string room;
  int count = 0;                         // 0 = until interrupted
  std::optional<std::int64_t> since_id;  // --since-id
  bool no_resume = false;
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

// The recovery marker (docs/events.md "The recovery marker"): events before fromId are missing.
void tell_truncated(context& ctx, std::int64_t room_id, const std::string& body) {
  const auto doc = nlohmann::json::parse(body, nullptr, false);
  std::string from = "?";
  if (doc.is_object() && doc.contains("fromId") && doc["fromId"].is_number_integer()) {
    from = std::to_string(doc["fromId"].get<std::int64_t>());
  }
  ctx.warn("some events of room " + std::to_string(room_id) + " before id " + from +
           " were not replayed (more than the server keeps for a resume): see chatctl history " +
           std::to_string(room_id));
}

void tail(context& ctx, const tail_options& o) {
  const auto room_id = resolve_room(ctx, o.room);
  // 401/403/404 as exit codes before opening a session; the members name read events.
  const auto room = fetch_room(ctx, room_id);

  std::int64_t last = o.since_id.value_or(-1);  // the last id printed (or given): -1 = none
  int seen = 0;
  bool resuming = false;  // the connection dropped: reconnect quietly, with since-id
  auto backoff = std::chrono::milliseconds(tail_first_backoff);
  std::chrono::steady_clock::time_point give_up{};
  auto& out = ctx.out();
  for (;;) {
    live_session live(ctx);
    auto& stomp = live.stomp();
    boost::asio::signal_set signals(stomp.context(), SIGINT, SIGTERM);
    signals.async_wait([&stomp](const boost::system::error_code& ec, int) {
      if (!ec) stomp.interrupt();
    });

    if (!resuming) {
      // Ctrl-C while connecting or subscribing ends tail as quietly as it would later.
      if (!live.connect()) return;
    } else {
      // Wait (interruptibly), then try again; past the window, give up like --no-resume.
      if (stomp.run_until([] { return false; }, std::chrono::steady_clock::now() + backoff) ==
          client::blocking_stomp::wait_status::interrupted) {
        return;
      }
      if (const auto ec = live.connect_or_retry()) {
        if (ec == client::errc::aborted) return;
        if (std::chrono::steady_clock::now() >= give_up) {
          fail(exit_code::unavailable, "lost room " + std::to_string(room_id) + " and could not reconnect to " +
                                           live.where() + " within 60s: " + ec.message());
        }
        backoff = std::min<std::chrono::milliseconds>(2 * backoff, tail_max_backoff);
        continue;
      }
    }
    std::vector<client::header_view> headers;
    const std::string since = std::to_string(last);
    if (last >= 0) headers.push_back({"since-id", since});
    chat::stomp::frame receipt;
    if (!live.subscribe(proto::room_destination(room_id), "room", headers, &receipt)) return live_disconnect(live);
    if (!resuming) {
      ctx.note("Following room " + std::to_string(room_id) + (o.since_id ? " from after id " + since : std::string()) +
               (o.count > 0 ? " for " + std::to_string(o.count) + " event(s)" : std::string(" (Ctrl-C to stop)")));
    } else {
      ctx.note("Resumed room " + std::to_string(room_id) + " after id " + since);
    }
    resuming = false;
    backoff = tail_first_backoff;

    bool lost = false;
    while (o.count == 0 || seen < o.count) {
      auto f = stomp.next_message(std::chrono::steady_clock::now() + 24h);
      if (!f) {
        if (stomp.last_wait() == client::blocking_stomp::wait_status::interrupted) break;
        if (stomp.last_wait() == client::blocking_stomp::wait_status::timeout) continue;
        if (o.no_resume) live.fail_closed("lost room " + std::to_string(room_id));
        // An ERROR other than the node going away (e.g. forbidden: removed from the room) ends it.
        if (const auto& e = stomp.error_frame();
            e && exit_code_for_stomp(e, stomp.closed_reason().value_or(client::errc::connection_lost)) !=
                     exit_code::unavailable) {
          live.fail_closed("lost room " + std::to_string(room_id));
        }
        lost = true;
        break;
      }
      if (f->get("chat-event") == proto::read_event_name) {
        print_read_event(ctx, room, f->body);
        continue;
      }
      if (f->get("chat-event").value_or("") == "recovery.truncated") {
        tell_truncated(ctx, room_id, f->body);
        if (out.fmt() != format::table) out.line(f->body);
        continue;
      }
      proto::chat_message m;
      if (proto::parse_chat_message(f->body, m, static_cast<std::size_t>(-1))) {
        ctx.warn("skipping a message that is not a chat message: " + sanitize(f->body.substr(0, 120)));
        continue;
      }
      // Printed before (a resume overlapping what came live): never twice.
      if (m.id >= 0 && m.id <= last) continue;
      // json and jsonl alike: one JSON object per line, as messages arrive.
      if (out.fmt() == format::table) {
        print_message_row(ctx, m);
      } else {
        out.line(chat::proto::to_json(m));
      }
      last = std::max(last, m.id);
      ++seen;
    }
    if (lost) {
      ctx.warn("lost the connection to " + live.where() + "; resuming room " + std::to_string(room_id) +
               (last >= 0 ? " after id " + std::to_string(last) : std::string()));
      resuming = true;
      give_up = std::chrono::steady_clock::now() + tail_resume_window;
      continue;
    }
    // A second Ctrl-C during the goodbye ends the process the default way.
    signals.clear();
    live_disconnect(live);
    return;
  }
}

}  // namespace

void add_tail_command(CLI::App& app, context& ctx) {
  auto o = std::make_shared<tail_options>();
  auto* sub = app.add_subcommand("tail", "Follow a room live over STOMP until Ctrl-C");
  sub->add_option("ROOM", o->room, "room id, or the name of one of your group rooms")->required();
  sub->add_option("--count", o->count, "stop after N room events (messages, edits, deletes, reactions, pins)")
      ->check(CLI::PositiveNumber)
      ->type_name("N");
  sub->add_option("--since-id", o->since_id,
                  "first print every room event after message id N (missed while away), then follow live")
      ->check(CLI::NonNegativeNumber)
      ->type_name("N");
  sub->add_flag("--no-resume", o->no_resume, "end with exit 7 when the connection drops instead of resuming");
  sub->footer(examples({"chatctl tail 42", "chatctl tail ops --count 1 -o jsonl | jq -r .content",
                        "chatctl tail 42 --since-id 1099511627781"}));
  on_run(sub, ctx, o, tail);
}

}  // namespace chatctl
