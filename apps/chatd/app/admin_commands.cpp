#include "app/admin_commands.hpp"

#include "config/config.hpp"

#include <chat/kafka/settings.hpp>

#include <unistd.h>

#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

namespace chat::chatd {
namespace {

// The settings without the command: "chatd checkconfig --x" parses as "chatd --x".
std::vector<const char*> without_command(int argc, const char* const* argv) {
  std::vector<const char*> out;
  out.reserve(static_cast<std::size_t>(argc));
  if (argc > 0) out.push_back(argv[0]);
  for (int i = 2; i < argc; ++i) out.push_back(argv[i]);
  return out;
}

std::string role_names(const role_set& r) {
  std::string out;
  auto add = [&](bool on, const char* name) {
    if (!on) return;
    if (!out.empty()) out += ',';
    out += name;
  };
  add(r.gateway, "gateway");
  add(r.persist, "persist");
  add(r.broadcast, "broadcast");
  add(r.receipts, "receipts");
  add(r.scheduler, "scheduler");
  add(r.preview, "preview");
  return out;
}

// What the settings name beyond their own syntax; each problem one line.
std::vector<std::string> environment_problems(const config& cfg) {
  std::vector<std::string> out;
  if (auto bad = kafka::check_settings(kafka_consumer_settings(cfg))) {
    out.push_back("--kafka-property (CHATD_KAFKA_PROPERTY): " + *bad);
  }
  if (!cfg.ports_file.empty()) {
    auto folder = std::filesystem::path(cfg.ports_file).parent_path();
    if (folder.empty()) folder = ".";
    std::error_code ec;
    if (!std::filesystem::is_directory(folder, ec) || ::access(folder.c_str(), W_OK) != 0) {
      out.push_back("--ports-file (CHATD_PORTS_FILE): folder " + folder.string() + " is not a writable directory");
    }
  }
  if (cfg.jwt_secret.empty() && cfg.dev) {
    out.push_back("--dev without a JWT secret: tokens die with the process (development only)");
  }
  return out;
}

}  // namespace

int run_checkconfig(int argc, const char* const* argv) {
  const auto args = without_command(argc, argv);
  auto parsed = parse_config(static_cast<int>(args.size()), args.data(), parse_mode::check);
  if (!parsed.cfg) return parsed.exit_code;  // the bad setting is on stderr already
  const auto& cfg = *parsed.cfg;
  const auto problems = environment_problems(cfg);
  // --dev without a secret is a warning, not a failure: it is a valid development set-up.
  bool failed = false;
  for (const auto& p : problems) {
    const bool warning = p.rfind("--dev", 0) == 0;
    failed = failed || !warning;
    std::cerr << "chatd checkconfig: " << (warning ? "warning: " : "") << p << "\n";
  }
  if (failed) return 2;
  // A summary without secrets: what this node would be.
  std::cout << "chatd checkconfig: OK\n"
            << "  node        " << cfg.node_id << "\n"
            << "  roles       " << role_names(cfg.roles) << "\n"
            << "  http        " << cfg.http_host << ":" << cfg.http_port << "\n"
            << "  stomp       " << cfg.stomp_host << ":" << cfg.stomp_port << "\n"
            << "  metrics     " << cfg.metrics_host << ":" << cfg.metrics_port << "\n"
            << "  kafka       " << cfg.kafka_brokers << "\n"
            << "  jwt secret  " << (cfg.jwt_secret.empty() ? "generated (--dev)" : "set") << "\n";
  return 0;
}

int run_genconfig(int argc, const char* const* argv) {
  const auto args = without_command(argc, argv);
  auto parsed = parse_config(static_cast<int>(args.size()), args.data(), parse_mode::generate);
  if (parsed.exit_code != 0) return parsed.exit_code;
  std::cout << parsed.generated;
  return 0;
}

}  // namespace chat::chatd
