// chatd: parses settings, builds the application, runs it. See app/app.hpp.
#include "api/hasher_process.hpp"
#include "app/admin_commands.hpp"
#include "app/app.hpp"
#include "config/config.hpp"

#include <chat/log/log.hpp>

#include <chrono>
#include <cstdlib>
#include <exception>
#include <iostream>
#include <string_view>

int main(int argc, char** argv) {
  // A password hasher child of this chatd (api/hasher_process.hpp), not a server.
  if (argc == 2 && argv[1] == chat::chatd::api::hasher_child_flag) {
    return chat::chatd::api::run_hasher_child(chat::chatd::api::hasher_child_fd);
  }
  // Operator commands (app/admin_commands.hpp): nothing starts.
  if (argc >= 2 && std::string_view(argv[1]) == chat::chatd::checkconfig_command) {
    return chat::chatd::run_checkconfig(argc, argv);
  }
  if (argc >= 2 && std::string_view(argv[1]) == chat::chatd::genconfig_command) {
    return chat::chatd::run_genconfig(argc, argv);
  }
  auto parsed = chat::chatd::parse_config(argc, argv);
  if (!parsed.cfg) return parsed.exit_code;
  auto& cfg = *parsed.cfg;
  cfg.password_hasher_executable = "/proc/self/exe";

  chat::log::format fmt = chat::log::format::json;
  chat::log::level lvl = chat::log::level::info;
  chat::log::parse_format(cfg.log_format, fmt);
  chat::log::parse_level(cfg.log_level, lvl);
  chat::log::init(fmt, lvl);
  // The I/O threads log: they hand lines to a writer thread and never wait for stderr
  // (docs/operations.md, "Logs"). Every way out of main writes what is still queued.
  chat::log::start_async();
  struct flush_log_at_exit {
    ~flush_log_at_exit() { chat::log::stop_async(); }
  } flush_log;
  // An exception that escapes a thread ends the process through std::terminate: the lines
  // that led there are written first, then the default handler reports the exception.
  static std::terminate_handler previous_terminate = nullptr;
  previous_terminate = std::set_terminate([] {
    chat::log::stop_async(std::chrono::milliseconds(1000));
    if (previous_terminate != nullptr) previous_terminate();
    std::abort();
  });

  try {
    const bool migrate = cfg.migrate_only;
    chat::chatd::app app(std::move(cfg));
    return migrate ? app.migrate_only() : app.run();
  } catch (const std::exception& e) {
    chat::log::error("fatal", {{"error", e.what()}});
    return 1;
  }
}
