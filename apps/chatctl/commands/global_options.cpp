#include "commands/commands.hpp"
#include "commands/common.hpp"

#include <CLI/CLI.hpp>

namespace chatctl {

void add_global_options(CLI::App& app, context& ctx) {
  auto& o = ctx.opts;
  app.add_option("--server", o.server,
                 "chatd REST URL, e.g. http://127.0.0.1:8080 (default: the profile's, else " +
                     std::string(default_server) + ")")
      ->envname("CHAT_SERVER")
      ->type_name("URL");
  app.add_option("--token", o.token, "JWT to use instead of the profile's (visible in ps: prefer CHAT_TOKEN)")
      ->envname("CHAT_TOKEN")
      ->type_name("JWT");
  app.add_option("--profile", o.profile, "profile in the configuration file (default: default)")
      ->envname("CHAT_PROFILE")
      ->type_name("NAME");
  app.add_option("--stomp-url", o.stomp,
                 "STOMP endpoint for send/tail (default: ws://<server>/ws; tcp://host:61613 works too)")
      ->envname("CHAT_STOMP_URL")
      ->type_name("URL");
  app.add_option("-o,--output", o.output, "output format: table (default), json or jsonl")
      ->check(CLI::IsMember({"table", "json", "jsonl"}))
      ->type_name("FORMAT");
  app.add_flag("-q,--quiet", o.quiet, "no informational messages on stderr");
  app.add_option("--timeout", o.timeout, "time limit per server operation, e.g. 10s, 500ms (default 10s)")
      ->envname("CHAT_TIMEOUT")
      ->type_name("DURATION");
  // Refused on purpose: a password in argv is visible to every user through ps.
  app.add_option_function<std::string>("--password", [&o](const std::string&) { o.password_flag_given = true; })
      ->group("");
}

}  // namespace chatctl
