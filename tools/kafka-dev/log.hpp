// Minimal stderr logger for chat-kafka-dev: one line per event, safe to call from any
// thread (librdkafka's log callback runs on its own threads).
#pragma once

#include <string_view>

namespace kafka_dev {

enum class log_level { debug = 0, info = 1, warn = 2, error = 3 };

// Sets the lowest level that is written. Call before starting threads.
void set_log_threshold(log_level level);
log_level log_threshold();

// Writes "<UTC timestamp> <level> chat-kafka-dev: <msg>\n" in one write(2).
void log(log_level level, std::string_view msg);

}  // namespace kafka_dev
