#pragma once
// Helpers shared by the commands: resolving ROOM and user arguments, rendering rooms and
// messages in every output format, registering a subcommand's action.
#include "core/context.hpp"

#include <chat/client/rest_client.hpp>
#include <chat/proto/message.hpp>
#include <chat/proto/rest.hpp>

#include <CLI/App.hpp>
#include <nlohmann/json.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace chatctl {

// Runs `fn(ctx, *options)` after parsing when `sub` was chosen.
template <class Options, class Fn>
void on_run(CLI::App* sub, context& ctx, std::shared_ptr<Options> options, Fn fn) {
  sub->callback([&ctx, options, fn] { ctx.action = [options, fn](context& c) { fn(c, *options); }; });
}

// "Example:" footer for --help.
std::string examples(std::initializer_list<const char*> lines);

// A room id ("42") or the exact name of one of the caller's group rooms ("ops").
std::int64_t resolve_room(context& ctx, const std::string& spec);
// A user id ("7") or an email address ("ann@example.com", looked up).
std::int64_t resolve_user(context& ctx, const std::string& spec);
std::vector<std::int64_t> resolve_users(context& ctx, const std::vector<std::string>& specs);

// GET /api/rooms/{id}, failing with the matching exit code (3, 4, 5, 7).
chat::client::room_info fetch_room(context& ctx, std::int64_t room_id);

// chatctl's JSON view of a room (docs/chatctl.md): the docs/rest.md room without createdAt. Messages,
// room summaries, users and members print as chat::proto encodes them (proto::to_json).
std::string room_view_json(const chat::client::room_info& room);

// Prints one room (room direct/group/show/invite) in the selected format.
void print_room(context& ctx, const chat::client::room_info& room);

// Room events as table rows: ID, TIME, FROM, TEXT (core/message_text.hpp: a message with its state,
// or what another event did; SYSTEM messages, other events and tombstones dimmed).
void print_message_row(context& ctx, const chat::proto::chat_message& m);
// "2026-11-21T12:00:00.123Z" -> "2026-11-21 12:00:00" (table only).
std::string short_time(const chat::proto::chat_message& m);

std::string display_name(const std::optional<std::string>& name, chat::proto::room_type type);

}  // namespace chatctl
