#include <chat/kafka/errc.hpp>

#include <librdkafka/rdkafka.h>

#include <string>

namespace chat::kafka {

namespace {

class kafka_error_category final : public std::error_category {
 public:
  const char* name() const noexcept override { return "kafka"; }

  std::string message(int ev) const override {
    const auto err = static_cast<rd_kafka_resp_err_t>(ev);
    return std::string(rd_kafka_err2str(err)) + " (" + rd_kafka_err2name(err) + ")";
  }

  std::error_condition default_error_condition(int ev) const noexcept override {
    if (ev == RD_KAFKA_RESP_ERR_NO_ERROR) return {};
    return make_error_condition(classify(std::error_code(ev, *this)));
  }
};

class kafka_condition_category final : public std::error_category {
 public:
  const char* name() const noexcept override { return "kafka.condition"; }

  std::string message(int ev) const override {
    switch (static_cast<errc>(ev)) {
      case errc::queue_full: return "Kafka producer queue full";
      case errc::unknown_topic: return "Kafka topic or partition unknown";
      case errc::message_too_large: return "Kafka message too large";
      case errc::timed_out: return "Kafka timed out";
      case errc::fatal: return "Kafka client unusable";
      case errc::other: return "Kafka error";
    }
    return "unknown Kafka condition";
  }

  bool equivalent(const std::error_code& code, int condition) const noexcept override {
    return code.category() == kafka::error_category() && code.value() != 0 &&
           static_cast<int>(classify(code)) == condition;
  }
};

}  // namespace

const std::error_category& error_category() noexcept {
  static const kafka_error_category instance;
  return instance;
}

const std::error_category& condition_category() noexcept {
  static const kafka_condition_category instance;
  return instance;
}

std::error_condition make_error_condition(errc e) noexcept { return {static_cast<int>(e), condition_category()}; }

std::error_code make_error_code(errc e) noexcept {
  rd_kafka_resp_err_t err = RD_KAFKA_RESP_ERR__FAIL;
  switch (e) {
    case errc::queue_full: err = RD_KAFKA_RESP_ERR__QUEUE_FULL; break;
    case errc::unknown_topic: err = RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC; break;
    case errc::message_too_large: err = RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE; break;
    case errc::timed_out: err = RD_KAFKA_RESP_ERR__MSG_TIMED_OUT; break;
    case errc::fatal: err = RD_KAFKA_RESP_ERR__FATAL; break;
    case errc::other: err = RD_KAFKA_RESP_ERR__FAIL; break;
  }
  return {static_cast<int>(err), error_category()};
}

errc classify(const std::error_code& ec) noexcept {
  if (ec.category() != error_category()) return errc::other;
  switch (static_cast<rd_kafka_resp_err_t>(ec.value())) {
    case RD_KAFKA_RESP_ERR__QUEUE_FULL: return errc::queue_full;
    case RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC:
    case RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION:
    case RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART:
    case RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED: return errc::unknown_topic;
    case RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE:
    case RD_KAFKA_RESP_ERR_RECORD_LIST_TOO_LARGE: return errc::message_too_large;
    case RD_KAFKA_RESP_ERR__MSG_TIMED_OUT:
    case RD_KAFKA_RESP_ERR__TIMED_OUT:
    case RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT: return errc::timed_out;
    case RD_KAFKA_RESP_ERR__FATAL:
    case RD_KAFKA_RESP_ERR__DESTROY: return errc::fatal;
    default:
      // rd_kafka_resp_err_t has ~200 values; the rest are one class.
      return errc::other;
  }
}

}  // namespace chat::kafka
