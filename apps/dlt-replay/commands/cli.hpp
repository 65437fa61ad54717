#pragma once
// The command tree (docs/dlt-replay.md): global options, then
//   list | show PARTITION:OFFSET | stats | export --out FILE | replay
#include "commands/context.hpp"

#include <CLI/CLI.hpp>

namespace dlt_replay {

void build_cli(CLI::App& app, context& ctx);

}  // namespace dlt_replay
