#pragma once
// Internal helpers shared by the wrappers of this module (not installed).
#include <chat/kafka/errc.hpp>
#include <chat/kafka/settings.hpp>

#include <librdkafka/rdkafka.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <limits>
#include <memory>
#include <stdexcept>
#include <string>
#include <system_error>

namespace chat::kafka::detail {

struct handle_deleter {
  void operator()(rd_kafka_t* rk) const noexcept { rd_kafka_destroy(rk); }
};
using handle_ptr = std::unique_ptr<rd_kafka_t, handle_deleter>;

struct conf_deleter {
  void operator()(rd_kafka_conf_t* c) const noexcept { rd_kafka_conf_destroy(c); }
};
using conf_ptr = std::unique_ptr<rd_kafka_conf_t, conf_deleter>;

struct partition_list_deleter {
  void operator()(rd_kafka_topic_partition_list_t* l) const noexcept { rd_kafka_topic_partition_list_destroy(l); }
};
using partition_list_ptr = std::unique_ptr<rd_kafka_topic_partition_list_t, partition_list_deleter>;

struct error_deleter {
  void operator()(rd_kafka_error_t* e) const noexcept { rd_kafka_error_destroy(e); }
};
using error_ptr = std::unique_ptr<rd_kafka_error_t, error_deleter>;

// A librdkafka timeout argument: milliseconds clamped to [0, INT_MAX].
inline int timeout_ms(std::chrono::milliseconds t) {
  return static_cast<int>(std::clamp<std::int64_t>(t.count(), 0, std::numeric_limits<int>::max()));
}

inline std::error_code to_error_code(rd_kafka_resp_err_t err) noexcept {
  return {static_cast<int>(err), error_category()};
}

// Builds a configuration; throws std::runtime_error naming the bad property.
// `defaults` are applied first, so `s` overrides them.
inline conf_ptr make_conf(const settings& s, const settings& defaults = {}) {
  conf_ptr conf{rd_kafka_conf_new()};
  char err[512];
  for (const settings* list : {&defaults, &s}) {
    for (const auto& [key, value] : *list) {
      if (rd_kafka_conf_set(conf.get(), key.c_str(), value.c_str(), err, sizeof err) != RD_KAFKA_CONF_OK) {
        throw std::runtime_error("kafka setting " + key + ": " + err);
      }
    }
  }
  return conf;
}

inline handle_ptr make_handle(rd_kafka_type_t type, conf_ptr conf) {
  char err[512];
  rd_kafka_t* rk = rd_kafka_new(type, conf.get(), err, sizeof err);
  if (rk == nullptr) throw std::runtime_error(std::string("kafka client: ") + err);
  conf.release();  // owned by rk now
  return handle_ptr{rk};
}

}  // namespace chat::kafka::detail
