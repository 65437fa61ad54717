#pragma once
// What the command line parsed, shared by the commands. main.cpp builds the option tree
// (cli.cpp), parses, and calls the run function the chosen subcommand selected.
#include "core/filter.hpp"
#include "core/ledger_entry.hpp"
#include "core/render.hpp"

#include <chat/kafka/settings.hpp>
#include <chat/proto/names.hpp>

#include <chrono>
#include <cstddef>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace dlt_replay {

// Exit codes (docs/dlt-replay.md).
inline constexpr int exit_ok = 0;
inline constexpr int exit_error = 1;
inline constexpr int exit_usage = 2;
inline constexpr int exit_partial = 3;

// A failure that ends the command with `code` after printing `what()` on stderr.
class command_error : public std::runtime_error {
 public:
  command_error(int code, const std::string& message) : std::runtime_error(message), code_(code) {}
  int code() const noexcept { return code_; }

 private:
  int code_;
};

struct global_options {
  std::string brokers = "127.0.0.1:9092";
  std::vector<std::string> properties;  // -X key=value
  std::string topic{chat::proto::topics::messages_dlt};
  std::string output = "table";
  double timeout_s = 30;
};

// The filter flags as typed; parsed by make_filter().
struct filter_options {
  std::string since, until, error, origin_topic, origin_partition, origin_offset, group, room, event;
  std::size_t limit = 0;  // 0: no limit
};

struct show_options {
  std::string where;  // PARTITION:OFFSET
};

struct export_options {
  std::string out;
};

struct replay_cli_options {
  std::string from_file;
  std::string to;
  std::string park_topic;
  int max_replays = 3;
  bool dry_run = false;
  std::string rate;  // "N" or "N/s"
  bool yes = false;
  std::size_t confirm_above = 100;
  bool restart = false;
  std::string ledger_topic{default_ledger_topic};
};

struct context {
  global_options global;
  filter_options filters;
  show_options show;
  export_options exporting;
  replay_cli_options replay;
  std::function<int(context&)> run;  // set by the subcommand that was parsed
};

// ---- shared by the commands (common.cpp) ----
chat::kafka::settings kafka_settings(const global_options& g);
std::chrono::milliseconds kafka_timeout(const global_options& g);
output_format output_of(const global_options& g);
filter make_filter(const filter_options& f);  // throws command_error(exit_usage)

// ---- the commands ----
int run_list(context& ctx);
int run_show(context& ctx);
int run_stats(context& ctx);
int run_export(context& ctx);
int run_replay(context& ctx);

}  // namespace dlt_replay
