#include "commands/context.hpp"

#include <chat/common/time.hpp>

#include <cmath>

namespace dlt_replay {

chat::kafka::settings kafka_settings(const global_options& g) {
  chat::kafka::settings s{{"bootstrap.servers", g.brokers}, {"client.id", "dlt-replay"}};
  for (const auto& p : g.properties) {
    const auto eq = p.find('=');
    if (eq == std::string::npos || eq == 0) {
      throw command_error(exit_usage, "-X " + p + ": expected key=value (a librdkafka setting)");
    }
    s.emplace_back(p.substr(0, eq), p.substr(eq + 1));
  }
  return s;
}

std::chrono::milliseconds kafka_timeout(const global_options& g) {
  return std::chrono::milliseconds(static_cast<std::int64_t>(std::llround(g.timeout_s * 1000)));
}

output_format output_of(const global_options& g) {
  if (const auto f = parse_output_format(g.output)) return *f;
  throw command_error(exit_usage, "-o " + g.output + ": expected table, json or jsonl");
}

filter make_filter(const filter_options& f) {
  filter out;
  const auto now = chat::common::now_unix_ms();
  const auto time_bound = [&](const std::string& flag, const std::string& text) {
    const auto t = parse_time_bound(text, now);
    if (!t) {
      throw command_error(exit_usage, flag + " " + text +
                                          ": expected an RFC 3339 time (2026-11-21T12:00:00Z), a date, Unix "
                                          "milliseconds, or an age such as 90m, 2h, 1d");
    }
    return *t;
  };
  if (!f.since.empty()) out.since_ms = time_bound("--since", f.since);
  if (!f.until.empty()) out.until_ms = time_bound("--until", f.until);
  if (!f.error.empty()) {
    std::string why;
    out.error = error_matcher::parse(f.error, why);
    if (!out.error) throw command_error(exit_usage, "--error: " + why);
  }
  if (!f.origin_topic.empty()) out.origin_topic = f.origin_topic;
  if (!f.origin_partition.empty()) {
    const auto r = parse_offset_range(f.origin_partition);
    if (!r || r->first != r->last || r->first > std::numeric_limits<std::int32_t>::max()) {
      throw command_error(exit_usage, "--origin-partition " + f.origin_partition + ": expected a partition number");
    }
    out.origin_partition = static_cast<std::int32_t>(r->first);
  }
  if (!f.origin_offset.empty()) {
    out.origin_offsets = parse_offset_range(f.origin_offset);
    if (!out.origin_offsets) {
      throw command_error(exit_usage, "--origin-offset " + f.origin_offset + ": expected A-B, A-, -B or A");
    }
  }
  if (!f.group.empty()) out.consumer_group = f.group;
  if (!f.room.empty()) out.room = f.room;
  if (!f.event.empty()) out.event = f.event;
  return out;
}

}  // namespace dlt_replay
