#pragma once
// A consumed Kafka record as a dead_letter (copies key, value and headers).
#include "core/dead_letter.hpp"

#include <chat/kafka/consumer.hpp>

namespace dlt_replay {

// An empty key counts as no key (librdkafka reports both the same way).
dead_letter to_dead_letter(const chat::kafka::record& r);

}  // namespace dlt_replay
