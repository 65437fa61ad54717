// list, show, stats: read-only views of a dead-letter topic.
#include "commands/context.hpp"
#include "commands/selection.hpp"
#include "core/record_json.hpp"
#include "core/stats.hpp"
#include "kafka/convert.hpp"
#include "kafka/topic_scan.hpp"

#include <iostream>

namespace dlt_replay {

using json = nlohmann::ordered_json;

int run_list(context& ctx) {
  const auto format = output_of(ctx.global);
  const auto f = make_filter(ctx.filters);
  topic_scanner scanner(kafka_settings(ctx.global), kafka_timeout(ctx.global));
  json all = json::array();
  std::size_t n = 0;
  if (format == output_format::table) write_list_header(std::cout);
  scan_dead_letters(scanner, ctx.global.topic, f, ctx.filters.limit, [&](dead_letter&& d) {
    ++n;
    switch (format) {
      case output_format::table: write_list_row(std::cout, d); break;
      case output_format::json: all.push_back(summary_json(d)); break;
      case output_format::jsonl: std::cout << summary_json(d).dump() << '\n'; break;
    }
    return true;
  });
  if (format == output_format::json) std::cout << all.dump(2) << '\n';
  std::cout.flush();
  if (format == output_format::table) std::cerr << n << (n == 1 ? " dead letter\n" : " dead letters\n");
  return exit_ok;
}

int run_show(context& ctx) {
  const auto format = output_of(ctx.global);
  const auto where = parse_partition_offset(ctx.show.where);
  if (!where) throw command_error(exit_usage, "show " + ctx.show.where + ": expected PARTITION:OFFSET, e.g. 3:1234");
  topic_scanner scanner(kafka_settings(ctx.global), kafka_timeout(ctx.global));
  const auto r = scanner.read_one(ctx.global.topic, where->partition, where->offset);
  if (!r) {
    throw command_error(exit_error, "no record at " + ctx.global.topic + " " + ctx.show.where);
  }
  const auto d = to_dead_letter(*r);
  switch (format) {
    case output_format::table: write_show(std::cout, d); break;
    case output_format::json: std::cout << to_json(d).dump(2) << '\n'; break;
    case output_format::jsonl: std::cout << to_json(d).dump() << '\n'; break;
  }
  return exit_ok;
}

int run_stats(context& ctx) {
  const auto format = output_of(ctx.global);
  const auto f = make_filter(ctx.filters);
  topic_scanner scanner(kafka_settings(ctx.global), kafka_timeout(ctx.global));
  dead_letter_stats stats;
  scan_dead_letters(scanner, ctx.global.topic, f, ctx.filters.limit, [&](dead_letter&& d) {
    stats.add(d);
    return true;
  });
  switch (format) {
    case output_format::table: write_stats(std::cout, stats); break;
    case output_format::json: std::cout << stats_json(stats).dump(2) << '\n'; break;
    case output_format::jsonl: std::cout << stats_json(stats).dump() << '\n'; break;
  }
  return exit_ok;
}

}  // namespace dlt_replay
