#include "core/run.hpp"

#include "core/exit_codes.hpp"
#include "core/output.hpp"

#include <CLI/CLI.hpp>

#include <iostream>

#include <unistd.h>

namespace chatctl {

namespace {

void print_error(const std::string& message) {
  const bool color = color_wanted(STDERR_FILENO);
  std::cerr << "chatctl: " << (color ? "\x1b[31merror:\x1b[0m " : "error: ") << message << '\n';
}

}  // namespace

int exit_for_parse_error(CLI::App& app, const CLI::ParseError& e) {
  const int rc = app.exit(e);  // prints help/version on stdout, errors on stderr
  return rc == 0 ? 0 : static_cast<int>(exit_code::usage);
}

int run(context& ctx) {
  try {
    if (ctx.opts.password_flag_given) {
      fail(exit_code::usage,
           "passwords are not accepted as arguments (every user could read them with ps); "
           "use the prompt or --password-stdin");
    }
    if (!ctx.action) fail(exit_code::usage, "no command given; see chatctl --help");
    ctx.action(ctx);
    return 0;
  } catch (const command_error& e) {
    print_error(e.what());
    return static_cast<int>(e.code());
  } catch (const std::exception& e) {
    print_error(e.what());
    return static_cast<int>(exit_code::error);
  }
}

std::string main_footer() {
  return R"(
Environment: CHAT_SERVER, CHAT_TOKEN, CHAT_PROFILE, CHAT_STOMP_URL, CHAT_TIMEOUT (as the flags), NO_COLOR.
Configuration: $XDG_CONFIG_HOME/chatctl/config.json (default ~/.config/chatctl/config.json), mode 0600.
Exit status: 0 ok, 1 error, 2 usage, 3 unauthorized, 4 not found, 5 forbidden, 6 conflict,
             7 server unreachable or unavailable.

Example:
  chatctl auth login --email ann@example.com
  chatctl room list
  echo hello | chatctl send 42
  chatctl tail 42)";
}

}  // namespace chatctl
