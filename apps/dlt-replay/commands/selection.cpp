#include "commands/selection.hpp"

#include "commands/context.hpp"
#include "core/record_json.hpp"
#include "kafka/convert.hpp"

#include <fstream>

namespace dlt_replay {

void scan_dead_letters(topic_scanner& scanner, const std::string& topic, const filter& f, std::size_t limit,
                       const std::function<bool(dead_letter&&)>& sink) {
  std::size_t passed = 0;
  scanner.scan(topic, [&](chat::kafka::record&& r) {
    auto d = to_dead_letter(r);
    if (!f.matches(d)) return true;
    ++passed;
    if (!sink(std::move(d))) return false;
    return limit == 0 || passed < limit;
  });
}

std::vector<dead_letter> read_export_file(const std::string& path) {
  std::ifstream in(path == "-" ? "/dev/stdin" : path, std::ios::binary);
  if (!in) throw command_error(exit_error, path + ": cannot open");
  std::vector<dead_letter> out;
  std::string line;
  std::size_t number = 0;
  while (std::getline(in, line)) {
    ++number;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.find_first_not_of(" \t") == std::string::npos) continue;
    auto parsed = from_json_line(line);
    if (!parsed.record) throw command_error(exit_error, path + ":" + std::to_string(number) + ": " + parsed.error);
    out.push_back(std::move(*parsed.record));
  }
  if (in.bad()) throw command_error(exit_error, path + ": read error");
  return out;
}

}  // namespace dlt_replay
