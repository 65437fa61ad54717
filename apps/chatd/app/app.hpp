#pragma once
// Assembles chatd from its parts and owns their lifetimes. Start-up order: database
// (migrations), Kafka topics, health monitor, listeners. Shutdown is the reverse.
#include "config/config.hpp"

#include <memory>

namespace chat::chatd {

class app {
 public:
  explicit app(config cfg);
  ~app();
  app(const app&) = delete;
  app& operator=(const app&) = delete;

  // Runs until SIGTERM/SIGINT. Returns the process exit code (0 after a clean shutdown,
  // 1 when a dependency could not be reached within --startup-timeout).
  int run();

  // `chatd --migrate`: applies migrations and returns the exit code.
  int migrate_only();

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace chat::chatd
