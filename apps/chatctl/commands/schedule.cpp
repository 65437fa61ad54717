// schedule add|list|rm (docs/chatctl.md "Scheduled messages"; docs/rest.md "Scheduled messages"):
// messages the server sends later, once or daily, weekly or monthly (its scheduler role).
#include "commands/commands.hpp"
#include "commands/common.hpp"
#include "core/duration.hpp"
#include "core/exit_codes.hpp"

#include <chat/client/scheduled.hpp>
#include <chat/common/time.hpp>
#include <chat/proto/json.hpp>

#include <CLI/CLI.hpp>

namespace chatctl {

namespace client = chat::client;
namespace proto = chat::proto;
using json = nlohmann::ordered_json;

namespace {

struct schedule_options {
  std::string room;
  std::string at;
  std::string repeat;
  std::vector<std::string> text;
  std::int64_t id = 0;
};

std::string joined_text(const std::vector<std::string>& parts) {
  std::string out;
  for (const auto& p : parts) {
    if (!out.empty()) out.push_back(' ');
    out += p;
  }
  return out;
}

// --at: an RFC 3339 time ("2026-11-21T09:00:00Z", any offset) or "+DURATION" from now ("+90s",
// "+10m", "+2h"; at most 24 h).
std::int64_t send_at_of(const std::string& at) {
  if (!at.empty() && at.front() == '+') {
    const auto d = parse_duration(std::string_view(at).substr(1));
    if (!d)
      fail(exit_code::usage, "--at: expected +DURATION such as +10m (at most 24h), or a time such as " +
                                 chat::common::format_iso8601_ms(chat::common::now_unix_ms()));
    return chat::common::now_unix_ms() + d->count();
  }
  const auto ms = chat::common::parse_iso8601_ms(at);
  if (!ms) {
    fail(exit_code::usage, "--at: expected a time such as 2026-11-21T09:00:00Z (with Z or an offset), or +10m");
  }
  return *ms;
}

std::string repeat_text(proto::schedule_repeat r) {
  return r == proto::schedule_repeat::once ? std::string("once") : std::string(proto::to_string(r));
}

// 2026-11-21T12:00:00.123Z -> 2026-11-21 12:00:00 (table only).
std::string shown_time(std::int64_t ms) {
  const auto at = chat::common::format_iso8601_ms(ms);
  return at.substr(0, 10) + " " + at.substr(11, 8);
}

void schedule_add(context& ctx, const schedule_options& o) {
  const std::string text = joined_text(o.text);
  if (text.find_first_not_of(" \t\r\n") == std::string::npos) fail(exit_code::usage, "TEXT is empty");
  proto::schedule_request request;
  request.content = text;
  request.send_at_ms = send_at_of(o.at);
  if (!o.repeat.empty()) request.repeat = *proto::parse_schedule_repeat(o.repeat);  // checked by CLI11
  const auto room_id = resolve_room(ctx, o.room);
  auto r = client::schedule_message(ctx.api(), room_id, request);
  if (!r) fail_response(r.http, "cannot schedule a message in room " + std::to_string(room_id), ctx.server_text());
  const auto& s = *r.value;
  auto& out = ctx.out();
  ctx.note("Scheduled message " + std::to_string(s.id) + " for " + chat::common::format_iso8601_ms(s.send_at_ms) +
           (s.repeat == proto::schedule_repeat::once ? std::string() : ", then " + repeat_text(s.repeat)));
  if (out.fmt() == format::table) return out.line(std::to_string(s.id));
  out.document_text(proto::to_json(s));
}

void schedule_list(context& ctx, const schedule_options& o) {
  const auto room_id = resolve_room(ctx, o.room);
  auto r = client::scheduled_messages(ctx.api(), room_id);
  if (!r) {
    fail_response(r.http, "cannot list your scheduled messages in room " + std::to_string(room_id), ctx.server_text());
  }
  auto& out = ctx.out();
  if (out.fmt() != format::table) {
    std::vector<std::string> items;
    for (const auto& s : *r.value) items.push_back(proto::to_json(s));
    return out.list_text(items);
  }
  std::vector<std::vector<std::string>> rows;
  for (const auto& s : *r.value) {
    rows.push_back({std::to_string(s.id), shown_time(s.send_at_ms), repeat_text(s.repeat), sanitize(s.content)});
  }
  out.table({"ID", "NEXT (UTC)", "REPEAT", "TEXT"}, rows);
}

void schedule_remove(context& ctx, const schedule_options& o) {
  const auto room_id = resolve_room(ctx, o.room);
  const auto r = client::cancel_scheduled(ctx.api(), room_id, o.id);
  if (!r.ok()) {
    fail_response(r, "cannot cancel scheduled message " + std::to_string(o.id) + " of room " + std::to_string(room_id),
                  ctx.server_text());
  }
  ctx.note("Cancelled scheduled message " + std::to_string(o.id));
  if (ctx.out().fmt() != format::table) ctx.out().document({{"id", o.id}, {"cancelled", true}});
}

}  // namespace

void add_schedule_commands(CLI::App& app, context& ctx) {
  auto* group = app.add_subcommand("schedule", "Messages the server sends later: once, or daily, weekly or monthly");
  group->require_subcommand(1);
  {
    auto o = std::make_shared<schedule_options>();
    auto* sub = group->add_subcommand("add", "Schedule TEXT in ROOM; prints the schedule's id");
    sub->add_option("ROOM", o->room, "room id or group room name")->required();
    sub->add_option("TEXT", o->text, "the message (words are joined with spaces)")->required();
    sub->add_option("--at", o->at, "when: a UTC time such as 2026-11-21T09:00:00Z (or with an offset), or +10m")
        ->required()
        ->type_name("TIME");
    sub->add_option("--repeat", o->repeat, "send it again every day, week or month (UTC) at that time")
        ->check(CLI::IsMember({"daily", "weekly", "monthly"}))
        ->type_name("daily|weekly|monthly");
    sub->footer(examples({"chatctl schedule add ops --at 2026-11-23T09:00:00Z --repeat weekly 'stand-up in 5'",
                          "chatctl schedule add ops --at +10m 'deploy starts now'"}));
    on_run(sub, ctx, o, schedule_add);
  }
  {
    auto o = std::make_shared<schedule_options>();
    auto* sub = group->add_subcommand("list", "Your scheduled messages in ROOM, next due first");
    sub->add_option("ROOM", o->room, "room id or group room name")->required();
    sub->footer(examples({"chatctl schedule list ops", "chatctl schedule list ops -o json | jq '.[].id'"}));
    on_run(sub, ctx, o, schedule_list);
  }
  {
    auto o = std::make_shared<schedule_options>();
    auto* sub = group->add_subcommand("rm", "Cancel one of your scheduled messages");
    sub->add_option("ROOM", o->room, "room id or group room name")->required();
    sub->add_option("ID", o->id, "the schedule's id (schedule list)")->required()->check(CLI::PositiveNumber);
    sub->footer(examples({"chatctl schedule rm ops 12"}));
    on_run(sub, ctx, o, schedule_remove);
  }
}

}  // namespace chatctl
