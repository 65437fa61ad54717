#pragma once
// Running the chosen command and turning every failure into a message on stderr and an exit
// status (docs/chatctl.md): 0 ok, 1 error, 2 usage, 3 unauthorized, 4 not found, 5 forbidden,
// 6 conflict, 7 server unreachable or unavailable.
#include "core/context.hpp"

#include <CLI/App.hpp>

#include <string>

namespace chatctl {

// Help and --version exit 0; every other parse error prints CLI11's message and exits 2.
int exit_for_parse_error(CLI::App& app, const CLI::ParseError& e);

// Runs ctx.action; command_error → its code, anything else → 1.
int run(context& ctx);

// The top-level --help footer: environment, files, exit statuses.
std::string main_footer();

}  // namespace chatctl
