#pragma once
// Errors of the Kafka wrappers, in the std::error_code model of std::errc:
//
//   - an error_code of error_category() carries librdkafka's own error code (the value of
//     rd_kafka_resp_err_t), so message() names the exact Kafka error, e.g.
//     "Local: Queue full (_QUEUE_FULL)";
//   - errc is an error *condition*: the few classes of failure callers decide on.
//     `ec == errc::queue_full` is true for every Kafka code of that class. classify()
//     gives the class for a switch.
//
// No librdkafka type appears here.
#include <system_error>
#include <type_traits>

namespace chat::kafka {

enum class errc {
  queue_full = 1,     // the local producer queue is full: shed load ("overloaded")
  unknown_topic,      // topic or partition does not exist
  message_too_large,  // record larger than message.max.bytes / the broker's limit
  timed_out,          // message.timeout.ms expired, or a request timed out
  fatal,              // the client can produce no more (fatal idempotence error, stopped)
  other,              // anything else; see message()
};

// Category of codes whose value is a librdkafka error code.
const std::error_category& error_category() noexcept;
// Category of the errc conditions.
const std::error_category& condition_category() noexcept;

std::error_condition make_error_condition(errc e) noexcept;

// A code of error_category() belonging to class e (a representative librdkafka code),
// for fakes and tests that must produce the errors this module produces.
std::error_code make_error_code(errc e) noexcept;

// The class of a failed code. Codes of other categories are `other`. Must not be called
// with a success code.
errc classify(const std::error_code& ec) noexcept;

}  // namespace chat::kafka

template <>
struct std::is_error_condition_enum<chat::kafka::errc> : std::true_type {};
