#include "pipeline/poison_sink.hpp"

#include <chat/log/log.hpp>

namespace chat::chatd::pipeline {

bool logging_poison_sink::accept(const kafka::record& r, const record_failure& failure, int attempts) {
  log::warn("skipping record that cannot be processed", {{"group", group_},
                                                         {"topic", r.topic()},
                                                         {"partition", r.partition()},
                                                         {"offset", r.offset()},
                                                         {"key", r.key().substr(0, 64)},
                                                         {"error_class", failure.error_class},
                                                         {"error", failure.message},
                                                         {"attempts", attempts}});
  return true;
}

}  // namespace chat::chatd::pipeline
