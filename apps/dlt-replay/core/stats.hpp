#pragma once
// `stats`: what failed, at a glance. Counts of dead letters by error class, origin topic,
// consumer group and hour of failure (UTC).
#include "core/dead_letter.hpp"

#include <cstddef>
#include <map>
#include <string>

namespace dlt_replay {

struct dead_letter_stats {
  std::size_t total = 0;
  std::map<std::string, std::size_t> by_error_class;   // "(none)" when the headers name none
  std::map<std::string, std::size_t> by_origin_topic;  // "(unknown)" likewise
  std::map<std::string, std::size_t> by_consumer_group;
  std::map<std::string, std::size_t> by_hour;  // "2026-11-21T12" (UTC), "(unknown)"
  std::optional<std::int64_t> first_ms;        // earliest and latest time_ms()
  std::optional<std::int64_t> last_ms;

  void add(const dead_letter& d);
};

}  // namespace dlt_replay
