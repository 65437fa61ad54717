#include "core/stats.hpp"

#include <chat/common/time.hpp>

#include <algorithm>

namespace dlt_replay {

void dead_letter_stats::add(const dead_letter& d) {
  ++total;
  ++by_error_class[d.info.error_class.value_or("(none)")];
  ++by_origin_topic[d.info.origin_topic.value_or("(unknown)")];
  ++by_consumer_group[d.info.consumer_group ? *d.info.consumer_group
                      : d.info.connector    ? "connector " + *d.info.connector
                                            : "(unknown)"];
  if (const auto t = d.time_ms()) {
    ++by_hour[chat::common::format_iso8601_ms(*t).substr(0, 13)];
    first_ms = first_ms ? std::min(*first_ms, *t) : *t;
    last_ms = last_ms ? std::max(*last_ms, *t) : *t;
  } else {
    ++by_hour["(unknown)"];
  }
}

}  // namespace dlt_replay
