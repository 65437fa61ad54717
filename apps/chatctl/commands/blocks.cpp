// block USER, unblock USER, blocks (docs/chatctl.md "Blocks"; docs/rest.md "Blocks")
#include "commands/commands.hpp"
#include "commands/common.hpp"
#include "core/exit_codes.hpp"

#include <chat/client/blocks.hpp>
#include <chat/common/time.hpp>

#include <CLI/CLI.hpp>

namespace chatctl {

namespace client = chat::client;
using json = nlohmann::ordered_json;

namespace {

struct block_options {
  std::string user;
};

void set_block(context& ctx, const block_options& o, bool block) {
  const auto user_id = resolve_user(ctx, o.user);
  const auto r = client::set_block(ctx.api(), user_id, block);
  if (!r.ok()) {
    fail_response(r, std::string(block ? "cannot block user " : "cannot unblock user ") + std::to_string(user_id),
                  ctx.server_text());
  }
  ctx.note(std::string(block ? "Blocked user " : "Unblocked user ") + std::to_string(user_id));
  if (ctx.out().fmt() != format::table) ctx.out().document({{"userId", user_id}, {"blocked", block}});
}

struct list_options {};

void list_blocks(context& ctx, const list_options&) {
  auto found = client::blocks(ctx.api());
  if (!found) fail_response(found.http, "cannot list the users you block", ctx.server_text());
  std::vector<json> items;
  std::vector<std::vector<std::string>> rows;
  for (const auto& b : *found.value) {
    const auto at = chat::common::format_iso8601_ms(b.blocked_at_ms);
    items.push_back({{"userId", b.user_id}, {"nickname", b.nickname}, {"blockedAt", at}});
    // 2026-11-21T12:00:00.123Z -> 2026-11-21 12:00:00
    std::string shown = at.size() >= 19 ? at.substr(0, 10) + " " + at.substr(11, 8) : at;
    rows.push_back({std::to_string(b.user_id), b.nickname, std::move(shown)});
  }
  auto& out = ctx.out();
  if (out.fmt() != format::table) return out.list(items);
  out.table({"USER ID", "NICKNAME", "BLOCKED AT"}, rows);
}

}  // namespace

void add_block_commands(CLI::App& app, context& ctx) {
  {
    auto o = std::make_shared<block_options>();
    auto* sub = app.add_subcommand(
        "block", "Block a user: no direct room with them, and their messages no longer reach you in group rooms");
    sub->add_option("USER", o->user, "user id, or email address")->required();
    sub->footer(examples({"chatctl block 7", "chatctl block spam@example.com"}));
    on_run(sub, ctx, o, [](context& c, block_options& b) { set_block(c, b, true); });
  }
  {
    auto o = std::make_shared<block_options>();
    auto* sub = app.add_subcommand("unblock", "Unblock a user");
    sub->add_option("USER", o->user, "user id, or email address")->required();
    sub->footer(examples({"chatctl unblock 7"}));
    on_run(sub, ctx, o, [](context& c, block_options& b) { set_block(c, b, false); });
  }
  {
    auto o = std::make_shared<list_options>();
    auto* sub = app.add_subcommand("blocks", "List the users you block, newest first");
    sub->footer(examples({"chatctl blocks", "chatctl blocks -o json | jq '.[].userId'"}));
    on_run(sub, ctx, o, list_blocks);
  }
}

}  // namespace chatctl
