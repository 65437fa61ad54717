// history ROOM, read ROOM, unread ROOM
#include "commands/commands.hpp"
#include "commands/common.hpp"
#include "core/exit_codes.hpp"

#include <CLI/CLI.hpp>

#include <thread>

namespace chatctl {

namespace client = chat::client;
using json = nlohmann::ordered_json;
using namespace std::chrono_literals;

namespace {

constexpr int max_page_size = 100;  // docs/rest.md

struct history_options {
  std::string room;
  int limit = 20;
  int page_size = max_page_size;
  std::int64_t before = 0;
  bool all = false;
};

struct read_options {
  std::string room;
  std::int64_t up_to = 0;
  bool no_wait = false;
};

struct room_only {
  std::string room;
};

// Streams pages newest first, each as it arrives: --all never holds more than a page.
void history(context& ctx, const history_options& o) {
  const auto room_id = resolve_room(ctx, o.room);
  auto& api = ctx.api();
  auto& out = ctx.out();
  std::optional<std::int64_t> cursor;
  if (o.before > 0) cursor = o.before;
  long long remaining = o.all ? -1 : o.limit;
  bool started = false;
  while (remaining != 0) {
    const int size = remaining < 0 ? o.page_size : static_cast<int>(std::min<long long>(remaining, o.page_size));
    auto page = api.history(room_id, cursor, size);
    if (!page)
      fail_response(page.http, "cannot read the history of room " + std::to_string(room_id), ctx.server_text());
    if (!started) {
      started = true;
      if (out.fmt() == format::json) out.begin_list();
      if (out.fmt() == format::table && out.terminal() && !page.value->messages.empty()) {
        out.row({"ID", "TIME", "FROM", "MESSAGE"}, {13, 19, 12, 0},
                {style::bold, style::bold, style::bold, style::bold});
      }
    }
    for (const auto& m : page.value->messages) {
      if (remaining == 0) break;
      if (out.fmt() == format::table) {
        print_message_row(ctx, m);
      } else {
        out.list_item_text(chat::proto::to_json(m));
      }
      if (remaining > 0) --remaining;
    }
    if (!page.value->has_more || !page.value->next_cursor) break;
    cursor = page.value->next_cursor;
  }
  if (out.fmt() == format::json) out.end_list();
}

void print_unread(context& ctx, std::int64_t room_id, const client::unread_info& u) {
  auto& out = ctx.out();
  if (out.fmt() == format::table) {
    out.table({"ROOM", "UNREAD", "LAST READ"},
              {{std::to_string(room_id), std::to_string(u.unread_count), std::to_string(u.last_read_message_id)}});
  } else {
    out.document({{"roomId", room_id}, {"unreadCount", u.unread_count}, {"lastReadMessageId", u.last_read_message_id}});
  }
}

client::unread_info fetch_unread(context& ctx, std::int64_t room_id) {
  auto r = ctx.api().unread(room_id);
  if (!r) fail_response(r.http, "cannot read the unread count of room " + std::to_string(room_id), ctx.server_text());
  return *r.value;
}

// The receipt goes through Kafka (chat.read-receipts) and is applied asynchronously; by
// default read waits until the server reports it applied, so that `read` then `unread`
// behaves as a script expects.
void read(context& ctx, const read_options& o) {
  const auto room_id = resolve_room(ctx, o.room);
  auto& api = ctx.api();
  std::int64_t target = o.up_to;
  if (target <= 0) {
    auto page = api.history(room_id, std::nullopt, 1);
    if (!page)
      fail_response(page.http, "cannot find the newest message of room " + std::to_string(room_id), ctx.server_text());
    if (page.value->messages.empty()) {
      ctx.note("room " + std::to_string(room_id) + " has no messages");
      return print_unread(ctx, room_id, fetch_unread(ctx, room_id));
    }
    target = page.value->messages.front().id;
  }
  const auto r = api.mark_read(room_id, target);
  if (!r.ok()) fail_response(r, "cannot mark room " + std::to_string(room_id) + " read", ctx.server_text());
  auto state = fetch_unread(ctx, room_id);
  if (!o.no_wait) {
    const auto deadline = ctx.deadline();
    auto pause = 20ms;
    while (state.last_read_message_id < target) {
      if (std::chrono::steady_clock::now() + pause > deadline) {
        ctx.warn("the read position was accepted but is not applied yet (waited " + ctx.opts.timeout + ")");
        break;
      }
      std::this_thread::sleep_for(pause);
      pause = std::min(pause * 2, std::chrono::milliseconds(250));
      state = fetch_unread(ctx, room_id);
    }
  }
  print_unread(ctx, room_id, state);
}

void unread(context& ctx, const room_only& o) {
  const auto room_id = resolve_room(ctx, o.room);
  print_unread(ctx, room_id, fetch_unread(ctx, room_id));
}

}  // namespace

void add_history_commands(CLI::App& app, context& ctx) {
  {
    auto o = std::make_shared<history_options>();
    auto* sub = app.add_subcommand("history", "Show a room's messages, newest first");
    sub->add_option("ROOM", o->room, "room id, or the name of one of your group rooms")->required();
    sub->add_option("--limit", o->limit, "at most N messages (default 20)")->check(CLI::PositiveNumber)->type_name("N");
    sub->add_option("--before", o->before, "only messages older than this id")
        ->check(CLI::PositiveNumber)
        ->type_name("ID");
    sub->add_flag("--all", o->all, "every message, streamed page by page")->excludes("--limit");
    sub->add_option("--page-size", o->page_size, "messages per request, 1-100 (default 100)")
        ->check(CLI::Range(1, max_page_size))
        ->type_name("N");
    sub->footer(examples({"chatctl history 42 --limit 50", "chatctl history ops --all -o jsonl > ops.jsonl",
                          "chatctl history 42 --before 1099511627790 -o json"}));
    on_run(sub, ctx, o, history);
  }
  {
    auto o = std::make_shared<read_options>();
    auto* sub = app.add_subcommand("read", "Mark a room read (up to its newest message, or --up-to ID)");
    sub->add_option("ROOM", o->room, "room id, or the name of one of your group rooms")->required();
    sub->add_option("--up-to", o->up_to, "last message id read")->check(CLI::PositiveNumber)->type_name("ID");
    sub->add_flag("--no-wait", o->no_wait, "do not wait until the server has applied it");
    sub->footer(examples({"chatctl read 42", "chatctl read 42 --up-to 1099511627790"}));
    on_run(sub, ctx, o, read);
  }
  {
    auto o = std::make_shared<room_only>();
    auto* sub = app.add_subcommand("unread", "Show a room's unread count and read position");
    sub->add_option("ROOM", o->room, "room id, or the name of one of your group rooms")->required();
    sub->footer(examples({"chatctl unread 42", "chatctl unread 42 -o json | jq .unreadCount"}));
    on_run(sub, ctx, o, unread);
  }
}

}  // namespace chatctl
