#pragma once
// Registration of chatctl's command tree. Each add_* adds a subcommand group with its
// options and sets context::action when chosen; nothing talks to the server before parsing
// has succeeded.
#include "core/context.hpp"

#include <CLI/App.hpp>

namespace chatctl {

void add_global_options(CLI::App& app, context& ctx);
void add_auth_commands(CLI::App& app, context& ctx);     // auth signup|login|logout|whoami|token
void add_room_commands(CLI::App& app, context& ctx);     // room direct|group|list|show|members|invite|leave
void add_send_command(CLI::App& app, context& ctx);      // send
void add_history_commands(CLI::App& app, context& ctx);  // history, read, unread
void add_presence_command(CLI::App& app, context& ctx);  // presence
void add_reads_command(CLI::App& app, context& ctx);     // reads (in presence.cpp)
void add_tail_command(CLI::App& app, context& ctx);      // tail
// edit, delete, react, reply, thread, pin, unpin, pins, forward, bookmark add|rm|list
void add_lifecycle_commands(CLI::App& app, context& ctx);
void add_download_command(CLI::App& app, context& ctx);  // download
// profile show|set, users search, friends list|add|accept|reject|cancel|rm|requests
void add_people_commands(CLI::App& app, context& ctx);
void add_block_commands(CLI::App& app, context& ctx);  // block, unblock, blocks
void add_admin_commands(CLI::App& app, context& ctx);  // admin gentoken
// schedule add|list|rm
void add_schedule_commands(CLI::App& app, context& ctx);

}  // namespace chatctl
