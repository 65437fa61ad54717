// export: the selected dead letters as JSONL (core/record_json.hpp), the format
// `replay --from-file` reads back after an SRE fixed a payload in an editor.
#include "commands/context.hpp"
#include "commands/selection.hpp"
#include "core/record_json.hpp"

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>

namespace dlt_replay {

int run_export(context& ctx) {
  const auto f = make_filter(ctx.filters);
  const std::string& path = ctx.exporting.out;
  topic_scanner scanner(kafka_settings(ctx.global), kafka_timeout(ctx.global));

  // A file appears complete or not at all: written beside it, renamed when done.
  const bool to_stdout = path == "-";
  const std::string temp = path + ".tmp" + std::to_string(::getpid());
  std::ofstream file;
  if (!to_stdout) {
    file.open(temp, std::ios::binary | std::ios::trunc);
    if (!file) throw command_error(exit_error, path + ": cannot write (" + temp + ")");
  }
  std::ostream& out = to_stdout ? std::cout : file;
  std::size_t n = 0;
  try {
    scan_dead_letters(scanner, ctx.global.topic, f, ctx.filters.limit, [&](dead_letter&& d) {
      out << to_json(d).dump() << '\n';
      ++n;
      return true;
    });
    out.flush();
    if (!out) throw command_error(exit_error, path + ": write failed");
    if (!to_stdout) {
      file.close();
      std::filesystem::rename(temp, path);
    }
  } catch (...) {
    if (!to_stdout) std::remove(temp.c_str());
    throw;
  }
  std::cerr << "exported " << n << (n == 1 ? " dead letter" : " dead letters") << " from " << ctx.global.topic
            << (to_stdout ? std::string() : " to " + path) << '\n';
  return exit_ok;
}

}  // namespace dlt_replay
