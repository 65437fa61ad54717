// chatctl: the scriptable command line of the chat system (docs/chatctl.md). This file only builds the
// command tree, parses, and dispatches; each command lives in commands/.
#include "commands/commands.hpp"
#include "core/context.hpp"
#include "core/run.hpp"

#include <CLI/CLI.hpp>

int main(int argc, char** argv) {
  chatctl::context ctx;
  CLI::App app{"chatctl: accounts, rooms, messages and presence of a chatd server, from the shell", "chatctl"};
  app.set_version_flag("--version", CHATCTL_VERSION);
  app.require_subcommand(1);
  app.fallthrough();
  app.footer(chatctl::main_footer());

  chatctl::add_global_options(app, ctx);
  chatctl::add_auth_commands(app, ctx);
  chatctl::add_room_commands(app, ctx);
  chatctl::add_send_command(app, ctx);
  chatctl::add_history_commands(app, ctx);
  chatctl::add_presence_command(app, ctx);
  chatctl::add_reads_command(app, ctx);
  chatctl::add_tail_command(app, ctx);
  chatctl::add_lifecycle_commands(app, ctx);
  chatctl::add_download_command(app, ctx);
  chatctl::add_people_commands(app, ctx);
  chatctl::add_block_commands(app, ctx);
  chatctl::add_admin_commands(app, ctx);
  chatctl::add_schedule_commands(app, ctx);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return chatctl::exit_for_parse_error(app, e);
  }
  return chatctl::run(ctx);
}
