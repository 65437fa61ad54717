// The message lifecycle (SPEC §13, docs/chatctl.md): edit, delete, react, reply, thread, pin,
// unpin, pins, forward, bookmark add|rm|list. All over REST (chat/client/lifecycle.hpp).
//
// The server answers an edit, delete, reaction or pin with 202 once Kafka accepted the event, and
// a reply or forward with 201 and its id; the store applies them a moment later. By default each
// command then polls GET /api/rooms/{id}/messages/{mid} until the change shows (at most --timeout;
// a warning, not a failure, when it does not), so that a script's next `history` sees it.
// --no-wait skips that.
#include "commands/commands.hpp"
#include "commands/common.hpp"
#include "core/exit_codes.hpp"
#include "core/message_text.hpp"

#include <chat/client/lifecycle.hpp>
#include <chat/common/uuid.hpp>
#include <chat/proto/json.hpp>

#include <CLI/CLI.hpp>

#include <algorithm>
#include <functional>
#include <thread>

namespace chatctl {

namespace client = chat::client;
namespace proto = chat::proto;
using json = nlohmann::ordered_json;
using namespace std::chrono_literals;

namespace {

constexpr int max_thread_page_size = 100;  // docs/rest.md

struct target_options {
  std::string room;
  std::int64_t message = 0;
  std::vector<std::string> text;
  std::string emoji;
  std::string to_room;
  std::string key;
  bool remove = false;
  bool for_me = false;
  bool no_wait = false;
  int limit = 20;
  bool all = false;
};

std::string join_words(const std::vector<std::string>& parts) {
  std::string out;
  for (const auto& p : parts) {
    if (!out.empty()) out.push_back(' ');
    out += p;
  }
  return out;
}

std::string message_ref(std::int64_t room_id, std::int64_t message_id) {
  return "message " + std::to_string(message_id) + " of room " + std::to_string(room_id);
}

std::optional<std::string> key_option(const std::string& key) {
  if (key.empty()) return std::nullopt;
  if (!chat::common::is_uuid(key)) fail(exit_code::usage, "--key: expected a UUID");
  return chat::common::normalize_uuid(key);
}

// Polls the message until `applied` holds for it (nullopt: it does not exist yet). Waits at most
// --timeout; then warns, since the server has accepted the change and will apply it.
void await_applied(context& ctx, std::int64_t room_id, std::int64_t message_id,
                   const std::function<bool(const std::optional<proto::chat_message>&)>& applied) {
  const auto deadline = ctx.deadline();
  auto pause = 20ms;
  for (;;) {
    auto r = client::get_message(ctx.api(), room_id, message_id);
    std::optional<proto::chat_message> item;
    if (r) {
      item = std::move(r.value);
    } else if (r.http.error || r.http.status != 404) {
      fail_response(r.http, "cannot read " + message_ref(room_id, message_id), ctx.server_text());
    }
    if (applied(item)) return;
    if (std::chrono::steady_clock::now() + pause > deadline) {
      ctx.warn("the server accepted the change but has not applied it yet (waited " + ctx.opts.timeout + ")");
      return;
    }
    std::this_thread::sleep_for(pause);
    pause = std::min(pause * 2, std::chrono::milliseconds(250));
  }
}

bool exists(const std::optional<proto::chat_message>& m) { return m.has_value(); }

// json/jsonl: {roomId, messageId, event}; table: a note on stderr only.
void report_event(context& ctx, std::int64_t room_id, std::int64_t message_id, proto::event_kind kind,
                  const std::string& note, const std::string& emoji = {}) {
  ctx.note(note);
  if (ctx.out().fmt() == format::table) return;
  json j{{"roomId", room_id}, {"messageId", message_id}, {"event", std::string(proto::to_string(kind))}};
  if (!emoji.empty()) j["emoji"] = emoji;
  ctx.out().document(j);
}

// Like send: the id on a line (table), or {id, messageKey, roomId}.
void report_posted(context& ctx, std::int64_t room_id, const client::posted_message& p) {
  auto& out = ctx.out();
  if (out.fmt() == format::table) return out.line(std::to_string(p.id));
  out.document({{"id", p.id}, {"messageKey", p.message_key}, {"roomId", room_id}});
}

void check_ok(context& ctx, const client::response& r, const std::string& doing) {
  if (!r.ok()) fail_response(r, doing, ctx.server_text());
}

void edit(context& ctx, const target_options& o) {
  const std::string text = join_words(o.text);
  if (text.find_first_not_of(" \t\r\n") == std::string::npos) fail(exit_code::usage, "TEXT is empty");
  const auto room_id = resolve_room(ctx, o.room);
  check_ok(ctx, client::edit_message(ctx.api(), room_id, o.message, text),
           "cannot edit " + message_ref(room_id, o.message));
  if (!o.no_wait) {
    await_applied(ctx, room_id, o.message, [&](const auto& m) {
      return m && m->content == text && m->state && m->state->edited_at_ms.has_value();
    });
  }
  report_event(ctx, room_id, o.message, proto::event_kind::edited, "Edited message " + std::to_string(o.message));
}

void remove_message(context& ctx, const target_options& o) {
  const auto room_id = resolve_room(ctx, o.room);
  check_ok(ctx, client::delete_message(ctx.api(), room_id, o.message, o.for_me),
           "cannot delete " + message_ref(room_id, o.message));
  if (o.for_me) {
    // Applied at once (no room event): hidden from this user's history and live stream.
    ctx.note("Hid message " + std::to_string(o.message) + " from you");
    if (ctx.out().fmt() != format::table) {
      ctx.out().document({{"roomId", room_id}, {"messageId", o.message}, {"hidden", true}});
    }
    return;
  }
  if (!o.no_wait) {
    await_applied(ctx, room_id, o.message, [](const auto& m) { return !m || (m->state && m->state->deleted); });
  }
  report_event(ctx, room_id, o.message, proto::event_kind::deleted, "Deleted message " + std::to_string(o.message));
}

bool has_my_reaction(const std::optional<proto::chat_message>& m, const std::string& emoji) {
  if (!m || !m->state) return false;
  return std::any_of(m->state->reactions.begin(), m->state->reactions.end(),
                     [&](const proto::reaction_count& r) { return r.emoji == emoji && r.me; });
}

void react(context& ctx, const target_options& o) {
  if (const auto error = proto::check_emoji(o.emoji, "EMOJI")) {
    fail(exit_code::usage, "EMOJI: " + error.message + " (1-8 Unicode characters, no spaces)");
  }
  const auto room_id = resolve_room(ctx, o.room);
  check_ok(ctx, client::set_reaction(ctx.api(), room_id, o.message, o.emoji, !o.remove),
           std::string(o.remove ? "cannot remove the reaction from " : "cannot react to ") +
               message_ref(room_id, o.message));
  if (!o.no_wait) {
    await_applied(ctx, room_id, o.message, [&](const auto& m) { return has_my_reaction(m, o.emoji) != o.remove; });
  }
  report_event(ctx, room_id, o.message,
               o.remove ? proto::event_kind::reaction_removed : proto::event_kind::reaction_added,
               (o.remove ? "Removed " : "Added ") + o.emoji + (o.remove ? " from message " : " to message ") +
                   std::to_string(o.message),
               o.emoji);
}

void reply(context& ctx, const target_options& o) {
  const std::string text = join_words(o.text);
  if (text.find_first_not_of(" \t\r\n") == std::string::npos) fail(exit_code::usage, "TEXT is empty");
  const auto key = key_option(o.key);
  const auto room_id = resolve_room(ctx, o.room);
  client::message_draft draft;
  draft.content = text;
  draft.message_key = key;
  draft.reply_to_id = o.message;
  auto r = client::post_message(ctx.api(), room_id, draft);
  if (!r) fail_response(r.http, "cannot reply to " + message_ref(room_id, o.message), ctx.server_text());
  if (!o.no_wait) await_applied(ctx, room_id, r.value->id, exists);
  report_posted(ctx, room_id, *r.value);
}

void pin(context& ctx, const target_options& o, bool pinned) {
  const auto room_id = resolve_room(ctx, o.room);
  check_ok(ctx, client::set_pin(ctx.api(), room_id, o.message, pinned),
           std::string(pinned ? "cannot pin " : "cannot unpin ") + message_ref(room_id, o.message));
  if (!o.no_wait) {
    await_applied(ctx, room_id, o.message, [&](const auto& m) { return m && m->state && m->state->pinned == pinned; });
  }
  report_event(ctx, room_id, o.message, pinned ? proto::event_kind::pinned : proto::event_kind::unpinned,
               std::string(pinned ? "Pinned message " : "Unpinned message ") + std::to_string(o.message));
}

// Prints history items as a list: table rows (with a header on a terminal), a json array,
// jsonl lines.
class item_printer {
 public:
  explicit item_printer(context& ctx, bool with_room = false) : ctx_(ctx), with_room_(with_room) {}

  void item(const proto::chat_message& m) {
    auto& out = ctx_.out();
    if (!started_) {
      started_ = true;
      if (out.fmt() == format::json) out.begin_list();
      if (out.fmt() == format::table && out.terminal()) {
        if (with_room_) {
          out.row({"ROOM", "ID", "TIME", "FROM", "MESSAGE"}, {8, 13, 19, 12, 0},
                  {style::bold, style::bold, style::bold, style::bold, style::bold});
        } else {
          out.row({"ID", "TIME", "FROM", "MESSAGE"}, {13, 19, 12, 0},
                  {style::bold, style::bold, style::bold, style::bold});
        }
      }
    }
    if (out.fmt() != format::table) return out.list_item_text(proto::to_json(m));
    if (!with_room_) return print_message_row(ctx_, m);
    const bool deleted = m.state && m.state->deleted;
    out.row(
        {std::to_string(m.room_id), std::to_string(m.id), short_time(m), m.sender_nickname, event_text(m)},
        {8, 13, 19, 12, 0},
        {style::dim, style::dim, style::dim, deleted ? style::dim : style::cyan, deleted ? style::dim : style::plain});
  }

  void finish() {
    auto& out = ctx_.out();
    if (out.fmt() != format::json) return;
    if (!started_) out.begin_list();
    out.end_list();
  }

 private:
  context& ctx_;
  bool with_room_;
  bool started_ = false;
};

// The root, then its replies oldest first, page by page (--limit replies, or --all).
void thread(context& ctx, const target_options& o) {
  const auto room_id = resolve_room(ctx, o.room);
  auto& api = ctx.api();
  auto root = client::get_message(api, room_id, o.message);
  if (!root) fail_response(root.http, "cannot read " + message_ref(room_id, o.message), ctx.server_text());
  item_printer print(ctx);
  print.item(*root.value);
  std::optional<std::int64_t> cursor;
  long long remaining = o.all ? -1 : o.limit;
  while (remaining != 0) {
    const int size =
        remaining < 0 ? max_thread_page_size : static_cast<int>(std::min<long long>(remaining, max_thread_page_size));
    auto page = client::thread_page(api, room_id, o.message, cursor, size);
    if (!page)
      fail_response(page.http, "cannot read the thread of " + message_ref(room_id, o.message), ctx.server_text());
    for (const auto& m : page.value->messages) {
      if (remaining == 0) break;
      print.item(m);
      if (remaining > 0) --remaining;
    }
    if (!page.value->has_more || !page.value->next_cursor) break;
    cursor = page.value->next_cursor;
  }
  print.finish();
}

void pins(context& ctx, const target_options& o) {
  const auto room_id = resolve_room(ctx, o.room);
  auto r = client::pinned_messages(ctx.api(), room_id);
  if (!r) fail_response(r.http, "cannot list the pins of room " + std::to_string(room_id), ctx.server_text());
  item_printer print(ctx);
  for (const auto& m : *r.value) print.item(m);
  print.finish();
}

void forward(context& ctx, const target_options& o) {
  const auto key = key_option(o.key);
  const auto from = resolve_room(ctx, o.room);
  const auto to = resolve_room(ctx, o.to_room);
  auto r = client::forward_message(ctx.api(), to, from, o.message, key);
  if (!r) {
    fail_response(r.http, "cannot forward " + message_ref(from, o.message) + " to room " + std::to_string(to),
                  ctx.server_text());
  }
  if (!o.no_wait) await_applied(ctx, to, r.value->id, exists);
  report_posted(ctx, to, *r.value);
}

void bookmark_set(context& ctx, const target_options& o, bool add) {
  check_ok(ctx, client::set_bookmark(ctx.api(), o.message, add),
           std::string(add ? "cannot bookmark message " : "cannot remove the bookmark of message ") +
               std::to_string(o.message));
  ctx.note(std::string(add ? "Bookmarked message " : "Removed the bookmark of message ") + std::to_string(o.message));
  if (ctx.out().fmt() != format::table) ctx.out().document({{"messageId", o.message}, {"bookmarked", add}});
}

void bookmark_list(context& ctx, const target_options& o) {
  auto& api = ctx.api();
  item_printer print(ctx, true);
  std::optional<std::int64_t> cursor;
  long long remaining = o.all ? -1 : o.limit;
  while (remaining != 0) {
    const int size =
        remaining < 0 ? max_thread_page_size : static_cast<int>(std::min<long long>(remaining, max_thread_page_size));
    auto page = client::bookmarks(api, cursor, size);
    if (!page) fail_response(page.http, "cannot list your bookmarks", ctx.server_text());
    for (const auto& m : page.value->items) {
      if (remaining == 0) break;
      print.item(m);
      if (remaining > 0) --remaining;
    }
    if (!page.value->next_cursor) break;
    cursor = page.value->next_cursor;
  }
  print.finish();
}

constexpr const char* room_help = "room id, or the name of one of your group rooms";

CLI::App* message_command(CLI::App& parent, const char* name, const char* help, target_options& o) {
  auto* sub = parent.add_subcommand(name, help);
  sub->add_option("ROOM", o.room, room_help)->required();
  sub->add_option("MSG", o.message, "message id")->required()->check(CLI::NonNegativeNumber);
  return sub;
}

void add_no_wait(CLI::App* sub, target_options& o) {
  sub->add_flag("--no-wait", o.no_wait, "do not wait until the server has applied it");
}

void add_paging(CLI::App* sub, target_options& o, const char* what) {
  sub->add_option("--limit", o.limit, std::string("at most N ") + what + " (default 20)")
      ->check(CLI::PositiveNumber)
      ->type_name("N");
  sub->add_flag("--all", o.all, std::string("every one of the ") + what + ", page by page")->excludes("--limit");
}

}  // namespace

void add_lifecycle_commands(CLI::App& app, context& ctx) {
  {
    auto o = std::make_shared<target_options>();
    auto* sub = message_command(app, "edit", "Replace the text of one of your messages", *o);
    sub->add_option("TEXT", o->text, "the new text (words are joined by spaces)")->required();
    add_no_wait(sub, *o);
    sub->footer(examples({"chatctl edit 42 1099511627790 'deploy finished (for real)'"}));
    on_run(sub, ctx, o, edit);
  }
  {
    auto o = std::make_shared<target_options>();
    auto* sub = message_command(app, "delete", "Delete a message for everyone (or, --for-me, hide it from you)", *o);
    sub->add_flag("--for-me", o->for_me, "hide it from your history and live stream only");
    add_no_wait(sub, *o);
    sub->footer(examples({"chatctl delete 42 1099511627790", "chatctl delete ops 1099511627790 --for-me"}));
    on_run(sub, ctx, o, remove_message);
  }
  {
    auto o = std::make_shared<target_options>();
    auto* sub = message_command(app, "react", "Add (or --remove) a reaction to a message", *o);
    sub->add_option("EMOJI", o->emoji, "1-8 Unicode characters, e.g. 👍")->required();
    sub->add_flag("--remove", o->remove, "take the reaction back");
    add_no_wait(sub, *o);
    sub->footer(examples({"chatctl react 42 1099511627790 👍", "chatctl react 42 1099511627790 👍 --remove"}));
    on_run(sub, ctx, o, react);
  }
  {
    auto o = std::make_shared<target_options>();
    auto* sub = message_command(app, "reply", "Reply to a message (in its thread) and print the reply's id", *o);
    sub->add_option("TEXT", o->text, "the reply (words are joined by spaces)")->required();
    sub->add_option("--key", o->key, "messageKey (UUID) for an idempotent retry")->type_name("UUID");
    add_no_wait(sub, *o);
    sub->footer(
        examples({"chatctl reply 42 1099511627790 'on it'", "chatctl reply ops 1099511627790 done -o json | jq .id"}));
    on_run(sub, ctx, o, reply);
  }
  {
    auto o = std::make_shared<target_options>();
    auto* sub = message_command(app, "thread", "Show a message and its replies, oldest first", *o);
    add_paging(sub, *o, "replies");
    sub->footer(examples({"chatctl thread 42 1099511627790", "chatctl thread ops 1099511627790 --all -o jsonl"}));
    on_run(sub, ctx, o, thread);
  }
  {
    auto o = std::make_shared<target_options>();
    auto* sub = message_command(app, "pin", "Pin a message (room admins; at most 3 per room)", *o);
    add_no_wait(sub, *o);
    sub->footer(examples({"chatctl pin 42 1099511627790"}));
    on_run(sub, ctx, o, [](context& c, target_options& t) { pin(c, t, true); });
  }
  {
    auto o = std::make_shared<target_options>();
    auto* sub = message_command(app, "unpin", "Unpin a message (room admins)", *o);
    add_no_wait(sub, *o);
    sub->footer(examples({"chatctl unpin 42 1099511627790"}));
    on_run(sub, ctx, o, [](context& c, target_options& t) { pin(c, t, false); });
  }
  {
    auto o = std::make_shared<target_options>();
    auto* sub = app.add_subcommand("pins", "List a room's pinned messages");
    sub->add_option("ROOM", o->room, room_help)->required();
    sub->footer(examples({"chatctl pins 42", "chatctl pins ops -o jsonl | jq -r .content"}));
    on_run(sub, ctx, o, pins);
  }
  {
    auto o = std::make_shared<target_options>();
    auto* sub = app.add_subcommand("forward", "Forward a message to another of your rooms and print the new id");
    sub->add_option("FROM_ROOM", o->room, "the room the message is in (id or group name)")->required();
    sub->add_option("MSG", o->message, "message id")->required()->check(CLI::NonNegativeNumber);
    sub->add_option("TO_ROOM", o->to_room, "the room to forward it to (id or group name)")->required();
    sub->add_option("--key", o->key, "messageKey (UUID) for an idempotent retry")->type_name("UUID");
    add_no_wait(sub, *o);
    sub->footer(examples({"chatctl forward ops 1099511627790 42", "chatctl forward 42 1099511627790 ops -o json"}));
    on_run(sub, ctx, o, forward);
  }
  {
    auto* bookmark = app.add_subcommand("bookmark", "Bookmarks: add, remove, list (yours only)");
    bookmark->require_subcommand(1);
    bookmark->footer(examples({"chatctl bookmark add 1099511627790", "chatctl bookmark list"}));
    {
      auto o = std::make_shared<target_options>();
      auto* sub = bookmark->add_subcommand("add", "Bookmark a message");
      sub->add_option("MSG", o->message, "message id")->required()->check(CLI::NonNegativeNumber);
      sub->footer(examples({"chatctl bookmark add 1099511627790"}));
      on_run(sub, ctx, o, [](context& c, target_options& t) { bookmark_set(c, t, true); });
    }
    {
      auto o = std::make_shared<target_options>();
      auto* sub = bookmark->add_subcommand("rm", "Remove a bookmark");
      sub->add_option("MSG", o->message, "message id")->required()->check(CLI::NonNegativeNumber);
      sub->footer(examples({"chatctl bookmark rm 1099511627790"}));
      on_run(sub, ctx, o, [](context& c, target_options& t) { bookmark_set(c, t, false); });
    }
    {
      auto o = std::make_shared<target_options>();
      auto* sub = bookmark->add_subcommand("list", "List your bookmarks (in rooms you are still in), newest first");
      add_paging(sub, *o, "bookmarks");
      sub->footer(examples({"chatctl bookmark list", "chatctl bookmark list --all -o jsonl | jq -r .roomId"}));
      on_run(sub, ctx, o, bookmark_list);
    }
  }
}

}  // namespace chatctl
