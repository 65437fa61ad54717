// profile show|set, users search, friends list|add|accept|reject|cancel|rm|requests
// (docs/chatctl.md "People"; docs/rest.md "Profiles", "Search", "Friends")
#include "commands/commands.hpp"
#include "commands/common.hpp"
#include "core/exit_codes.hpp"

#include <chat/client/people.hpp>
#include <chat/common/time.hpp>
#include <chat/proto/ids.hpp>
#include <chat/proto/people.hpp>

#include <CLI/CLI.hpp>

#include <span>

namespace chatctl {

namespace client = chat::client;
namespace proto = chat::proto;

namespace {

struct people_options {
  std::string user;                           // USER (an id or an email)
  std::string request;                        // REQ
  std::optional<std::string> nickname;        // profile set --nickname
  std::optional<std::string> status_message;  // profile set --status ("" clears)
  std::optional<std::string> avatar_url;      // profile set --avatar ("" clears)
  std::string query;                          // users search Q
  int limit = proto::default_search_limit;    // users search --limit
  bool incoming = false;                      // friends requests --incoming (the default)
  bool outgoing = false;                      // friends requests --outgoing
};

std::string when(const std::optional<std::int64_t>& ms) {
  if (!ms) return "";
  auto text = chat::common::format_iso8601_ms(*ms);  // "2026-11-21T12:00:00.123Z" -> "2026-11-21 12:00:00"
  text[10] = ' ';
  return text.substr(0, 19);
}

std::string shown(context& ctx, const std::optional<std::string>& text) {
  if (!text) return "";
  return ctx.out().terminal() ? truncate_display(sanitize(*text), 50) : sanitize(*text);
}

const std::vector<std::string> people_header{"ID", "NICKNAME", "STATUS", "ONLINE", "LAST SEEN"};

std::vector<std::string> person_row(context& ctx, const proto::profile& p) {
  return {std::to_string(p.id), shown(ctx, p.nickname), shown(ctx, p.status_message),
          ctx.out().styled(p.online ? "yes" : "no", p.online ? style::green : style::dim), when(p.last_seen_at_ms)};
}

void print_people(context& ctx, const std::vector<proto::profile>& people) {
  auto& out = ctx.out();
  if (out.fmt() != format::table) {
    std::vector<std::string> items;
    items.reserve(people.size());
    for (const auto& p : people) items.push_back(proto::to_json(p));
    return out.list_text(items);
  }
  std::vector<std::vector<std::string>> rows;
  rows.reserve(people.size());
  for (const auto& p : people) rows.push_back(person_row(ctx, p));
  out.table(people_header, rows);
}

void print_requests(context& ctx, const std::vector<proto::friend_request>& requests) {
  auto& out = ctx.out();
  if (out.fmt() != format::table) {
    std::vector<std::string> items;
    items.reserve(requests.size());
    for (const auto& r : requests) items.push_back(proto::to_json(r));
    return out.list_text(items);
  }
  std::vector<std::vector<std::string>> rows;
  for (const auto& r : requests) {
    rows.push_back({std::to_string(r.id), std::to_string(r.from_user_id) + " " + shown(ctx, r.from_nickname),
                    std::to_string(r.to_user_id) + " " + shown(ctx, r.to_nickname), when(r.created_at_ms),
                    std::string(proto::to_string(r.status))});
  }
  out.table({"ID", "FROM", "TO", "SENT", "STATUS"}, rows);
}

void print_request(context& ctx, const proto::friend_request& r) {
  if (ctx.out().fmt() != format::table) return ctx.out().document_text(proto::to_json(r));
  print_requests(ctx, {r});
}

std::int64_t request_id(const std::string& spec) {
  const auto id = proto::parse_positive_id(spec);
  if (!id) fail(exit_code::usage, "'" + spec + "' is not a friend request id");
  return *id;
}

void profile_show(context& ctx, const people_options& o) {
  std::int64_t id = 0;
  if (o.user.empty()) {
    auto me = ctx.api().me();
    if (!me) fail_response(me.http, "cannot tell who is logged in", ctx.server_text());
    id = me.value->id;
  } else {
    id = resolve_user(ctx, o.user);
  }
  auto r = client::user_profile(ctx.api(), id);
  if (!r) fail_response(r.http, "cannot show user " + std::to_string(id), ctx.server_text());
  const auto& p = *r.value;
  auto& out = ctx.out();
  if (out.fmt() != format::table) return out.document_text(proto::to_json(p));
  out.table(
      {"ID", "NICKNAME", "STATUS", "AVATAR", "ONLINE", "LAST SEEN"},
      {{std::to_string(p.id), shown(ctx, p.nickname), shown(ctx, p.status_message), shown(ctx, p.avatar_url),
        ctx.out().styled(p.online ? "yes" : "no", p.online ? style::green : style::dim), when(p.last_seen_at_ms)}});
}

void profile_set(context& ctx, const people_options& o) {
  if (!o.nickname && !o.status_message && !o.avatar_url) {
    fail(exit_code::usage, "nothing to change: give --nickname, --status or --avatar");
  }
  proto::profile_update update{o.nickname, o.status_message, o.avatar_url};
  auto r = client::update_profile(ctx.api(), update);
  if (!r) fail_response(r.http, "cannot change the profile", ctx.server_text());
  const auto& u = *r.value;
  if (o.nickname) {
    // The saved profile shows the new nickname too (auth whoami asks the server anyway).
    auto saved = ctx.current_profile();
    if (saved.user_id == u.id) {
      saved.nickname = u.nickname;
      ctx.save_profile(saved);
    }
  }
  auto& out = ctx.out();
  if (out.fmt() != format::table) return out.document_text(proto::to_json(u));
  out.table({"USER ID", "NICKNAME", "STATUS", "AVATAR"},
            {{std::to_string(u.id), shown(ctx, u.nickname), shown(ctx, u.status_message), shown(ctx, u.avatar_url)}});
}

void users_search(context& ctx, const people_options& o) {
  auto r = client::search_users(ctx.api(), o.query, o.limit);
  if (!r) fail_response(r.http, "cannot search for '" + o.query + "'", ctx.server_text());
  print_people(ctx, *r.value);
}

void friends_list(context& ctx, const people_options&) {
  auto r = client::friends(ctx.api());
  if (!r) fail_response(r.http, "cannot list friends", ctx.server_text());
  print_people(ctx, *r.value);
}

void friends_add(context& ctx, const people_options& o) {
  const auto id = resolve_user(ctx, o.user);
  auto r = client::send_friend_request(ctx.api(), id);
  if (!r) fail_response(r.http, "cannot send a friend request to " + o.user, ctx.server_text());
  ctx.note("Friend request " + std::to_string(r.value->id) + " sent to " + r.value->to_nickname);
  print_request(ctx, *r.value);
}

void friends_answer(context& ctx, const people_options& o, bool accept) {
  const auto id = request_id(o.request);
  auto r = client::answer_friend_request(ctx.api(), id, accept);
  if (!r)
    fail_response(r.http, std::string("cannot ") + (accept ? "accept" : "reject") + " request " + o.request,
                  ctx.server_text());
  ctx.note(accept ? "You and " + r.value->from_nickname + " are friends" : "Request " + o.request + " rejected");
  print_request(ctx, *r.value);
}

void friends_cancel(context& ctx, const people_options& o) {
  const auto id = request_id(o.request);
  const auto r = client::cancel_friend_request(ctx.api(), id);
  if (!r.ok()) fail_response(r, "cannot cancel request " + o.request, ctx.server_text());
  ctx.note("Request " + o.request + " cancelled");
}

void friends_rm(context& ctx, const people_options& o) {
  const auto id = resolve_user(ctx, o.user);
  const auto r = client::remove_friend(ctx.api(), id);
  if (!r.ok()) fail_response(r, "cannot remove friend " + o.user, ctx.server_text());
  ctx.note("Removed " + o.user + " from your friends");
}

void friends_requests(context& ctx, const people_options& o) {
  if (o.incoming && o.outgoing) fail(exit_code::usage, "give --incoming or --outgoing, not both");
  auto r = client::friend_requests(ctx.api(), !o.outgoing);
  if (!r) fail_response(r.http, "cannot list friend requests", ctx.server_text());
  print_requests(ctx, *r.value);
}

}  // namespace

void add_people_commands(CLI::App& app, context& ctx) {
  {
    auto* profile = app.add_subcommand("profile", "Profiles: show one, change yours");
    profile->require_subcommand(1);
    profile->footer(examples({"chatctl profile show", "chatctl profile set --status 'in a meeting'"}));

    auto o = std::make_shared<people_options>();
    auto* show = profile->add_subcommand("show", "Show a user's profile: yours without USER");
    show->add_option("USER", o->user, "user id or email address (default: you)");
    show->footer(examples({"chatctl profile show", "chatctl profile show 42 -o json | jq .lastSeenAt",
                           "chatctl profile show ann@example.com"}));
    on_run(show, ctx, o, profile_show);

    auto s = std::make_shared<people_options>();
    auto* set = profile->add_subcommand("set", "Change your nickname, status message or avatar");
    set->add_option("--nickname", s->nickname, "new nickname (1-40 characters)");
    set->add_option("--status", s->status_message, "status message (at most 140 characters; '' clears it)");
    set->add_option("--avatar", s->avatar_url, "avatar URL (https only; '' clears it)");
    set->footer(examples({"chatctl profile set --nickname 'Ann B'",
                          "chatctl profile set --status 'back at 3' --avatar https://cdn.example.com/ann.png",
                          "chatctl profile set --status ''"}));
    on_run(set, ctx, s, profile_set);
  }
  {
    auto* users = app.add_subcommand("users", "Find users");
    users->require_subcommand(1);
    users->footer(examples({"chatctl users search ann"}));
    auto o = std::make_shared<people_options>();
    auto* search = users->add_subcommand("search", "Users whose nickname or email starts with Q (not you)");
    search->add_option("Q", o->query, "at least 2 characters, any case")->required();
    search->add_option("--limit", o->limit, "at most this many (1-50, default 20)")->check(CLI::Range(1, 50));
    search->footer(examples({"chatctl users search ann", "chatctl users search ann@ex --limit 5 -o jsonl"}));
    on_run(search, ctx, o, users_search);
  }
  {
    auto* friends = app.add_subcommand("friends", "Friends and friend requests");
    friends->require_subcommand(1);
    friends->footer(examples({"chatctl friends add ann@example.com", "chatctl friends requests",
                              "chatctl friends accept 17", "chatctl friends list"}));

    auto list = std::make_shared<people_options>();
    auto* ls = friends->add_subcommand("list", "List your friends, with presence");
    ls->footer(examples({"chatctl friends list", "chatctl friends list -o json | jq '.[] | select(.online)'"}));
    on_run(ls, ctx, list, friends_list);

    auto add = std::make_shared<people_options>();
    auto* a = friends->add_subcommand("add", "Send a friend request");
    a->add_option("USER", add->user, "user id or email address")->required();
    a->footer(examples({"chatctl friends add 42", "chatctl friends add ann@example.com -o json | jq .id"}));
    on_run(a, ctx, add, friends_add);

    auto acc = std::make_shared<people_options>();
    auto* accept = friends->add_subcommand("accept", "Accept a friend request sent to you");
    accept->add_option("REQ", acc->request, "request id (chatctl friends requests)")->required();
    accept->footer(examples({"chatctl friends accept 17"}));
    on_run(accept, ctx, acc, [](context& c, const people_options& o) { friends_answer(c, o, true); });

    auto rej = std::make_shared<people_options>();
    auto* reject = friends->add_subcommand("reject", "Reject a friend request sent to you");
    reject->add_option("REQ", rej->request, "request id")->required();
    reject->footer(examples({"chatctl friends reject 17"}));
    on_run(reject, ctx, rej, [](context& c, const people_options& o) { friends_answer(c, o, false); });

    auto can = std::make_shared<people_options>();
    auto* cancel = friends->add_subcommand("cancel", "Cancel a friend request you sent");
    cancel->add_option("REQ", can->request, "request id")->required();
    cancel->footer(examples({"chatctl friends cancel 17"}));
    on_run(cancel, ctx, can, friends_cancel);

    auto rm = std::make_shared<people_options>();
    auto* remove = friends->add_subcommand("rm", "Remove a friend");
    remove->add_option("USER", rm->user, "user id or email address")->required();
    remove->footer(examples({"chatctl friends rm 42"}));
    on_run(remove, ctx, rm, friends_rm);

    auto req = std::make_shared<people_options>();
    auto* requests = friends->add_subcommand("requests", "List pending friend requests (incoming by default)");
    requests->add_flag("--incoming", req->incoming, "requests sent to you (the default)");
    requests->add_flag("--outgoing", req->outgoing, "requests you sent");
    requests->footer(examples({"chatctl friends requests", "chatctl friends requests --outgoing -o jsonl"}));
    on_run(requests, ctx, req, friends_requests);
  }
}

}  // namespace chatctl
