#include "core/dialect.hpp"

#include "core/bytes.hpp"

#include <chat/common/time.hpp>
#include <chat/proto/names.hpp>

#include <limits>

namespace dlt_replay {

namespace kh = chat::proto::kafka_headers;
namespace sh = chat::proto::spring_dlt_headers;
namespace ch = chat::proto::connect_dlt_headers;

namespace {

// First and last value of a header, and how many times it occurs.
struct occurrences {
  const std::string* first = nullptr;
  const std::string* last = nullptr;
  int count = 0;
};

occurrences find(std::span<const header> headers, std::string_view name) {
  occurrences o;
  for (const auto& h : headers) {
    if (h.name != name) continue;
    if (o.first == nullptr) o.first = &h.value;
    o.last = &h.value;
    ++o.count;
  }
  return o;
}

std::optional<std::string> text_of(const std::string* v) {
  if (v == nullptr) return std::nullopt;
  return *v;
}

// Decimal text of an integer that fits in T; records a problem otherwise.
template <class T>
std::optional<T> decimal_of(const std::string* v, std::string_view name, std::vector<std::string>& problems) {
  if (v == nullptr) return std::nullopt;
  const auto n = parse_decimal(*v);
  if (!n || *n < std::numeric_limits<T>::min() || *n > std::numeric_limits<T>::max()) {
    problems.push_back(std::string(name) + ": not a decimal integer");
    return std::nullopt;
  }
  return static_cast<T>(*n);
}

std::optional<std::int64_t> timestamp_of(const std::string* v, std::string_view name,
                                         std::vector<std::string>& problems) {
  if (v == nullptr) return std::nullopt;
  const auto t = parse_timestamp_text(*v);
  if (!t) problems.push_back(std::string(name) + ": not Unix milliseconds or an RFC 3339 time");
  return t;
}

// Spring writes big-endian binary; decimal text (from non-Java writers) is accepted too.
std::optional<std::int32_t> spring_int32(const std::string* v, std::string_view name,
                                         std::vector<std::string>& problems) {
  if (v == nullptr) return std::nullopt;
  if (const auto n = decode_be_int32(*v)) return n;
  if (const auto n = parse_decimal(*v); n && *n >= 0 && *n <= std::numeric_limits<std::int32_t>::max()) {
    return static_cast<std::int32_t>(*n);
  }
  problems.push_back(std::string(name) + ": expected a 4-byte big-endian integer, got " + std::to_string(v->size()) +
                     " bytes");
  return std::nullopt;
}

std::optional<std::int64_t> spring_int64(const std::string* v, std::string_view name,
                                         std::vector<std::string>& problems) {
  if (v == nullptr) return std::nullopt;
  if (const auto n = decode_be_int64(*v)) return n;
  if (const auto n = parse_decimal(*v)) return n;
  problems.push_back(std::string(name) + ": expected an 8-byte big-endian integer, got " + std::to_string(v->size()) +
                     " bytes");
  return std::nullopt;
}

bool any_of(std::span<const header> headers, std::initializer_list<std::string_view> names) {
  for (const auto& h : headers) {
    for (const auto n : names) {
      if (h.name == n) return true;
    }
  }
  return false;
}

bool any_with_prefix(std::span<const header> headers, std::string_view prefix) {
  for (const auto& h : headers) {
    if (std::string_view(h.name).starts_with(prefix)) return true;
  }
  return false;
}

void read_chat(std::span<const header> hs, dead_letter_info& info) {
  auto& p = info.problems;
  const auto topic = find(hs, kh::dlt_original_topic);
  info.origin_topic = text_of(topic.first);
  info.origin_partition =
      decimal_of<std::int32_t>(find(hs, kh::dlt_original_partition).first, kh::dlt_original_partition, p);
  info.origin_offset = decimal_of<std::int64_t>(find(hs, kh::dlt_original_offset).first, kh::dlt_original_offset, p);
  info.origin_timestamp_ms = timestamp_of(find(hs, kh::dlt_original_timestamp).first, kh::dlt_original_timestamp, p);
  info.consumer_group = text_of(find(hs, kh::dlt_consumer_group).last);
  info.error_class = text_of(find(hs, kh::dlt_exception_class).last);
  info.error_message = text_of(find(hs, kh::dlt_exception_message).last);
  info.attempts = decimal_of<std::int32_t>(find(hs, kh::dlt_attempts).last, kh::dlt_attempts, p);
  info.failed_at_ms = timestamp_of(find(hs, kh::dlt_failed_at).last, kh::dlt_failed_at, p);
  info.dead_letter_count = std::max(1, topic.count);
}

void read_spring(std::span<const header> hs, dead_letter_info& info) {
  auto& p = info.problems;
  const auto topic = find(hs, sh::original_topic);
  info.origin_topic = text_of(topic.first);
  info.origin_partition = spring_int32(find(hs, sh::original_partition).first, sh::original_partition, p);
  info.origin_offset = spring_int64(find(hs, sh::original_offset).first, sh::original_offset, p);
  info.origin_timestamp_ms = spring_int64(find(hs, sh::original_timestamp).first, sh::original_timestamp, p);
  info.consumer_group = text_of(find(hs, sh::original_consumer_group).first);
  // A key deserialization failure is reported in the key-exception headers instead.
  const auto fqcn = find(hs, sh::exception_fqcn);
  const bool key_failure = fqcn.last == nullptr && find(hs, sh::key_exception_fqcn).last != nullptr;
  info.error_class = text_of(key_failure ? find(hs, sh::key_exception_fqcn).last : fqcn.last);
  info.error_message = text_of(find(hs, key_failure ? sh::key_exception_message : sh::exception_message).last);
  info.stacktrace = text_of(find(hs, key_failure ? sh::key_exception_stacktrace : sh::exception_stacktrace).last);
  info.dead_letter_count = std::max(1, topic.count);
}

void read_connect(std::span<const header> hs, dead_letter_info& info) {
  auto& p = info.problems;
  const auto topic = find(hs, ch::original_topic);
  info.origin_topic = text_of(topic.first);
  info.origin_partition = decimal_of<std::int32_t>(find(hs, ch::original_partition).first, ch::original_partition, p);
  info.origin_offset = decimal_of<std::int64_t>(find(hs, ch::original_offset).first, ch::original_offset, p);
  info.connector = text_of(find(hs, ch::connector_name).first);
  info.task_id = text_of(find(hs, ch::task_id).last);
  info.stage = text_of(find(hs, ch::stage).last);
  info.error_class = text_of(find(hs, ch::exception_class).last);
  info.error_message = text_of(find(hs, ch::exception_message).last);
  info.stacktrace = text_of(find(hs, ch::exception_stacktrace).last);
  info.dead_letter_count = std::max(1, topic.count);
}

}  // namespace

std::optional<std::int64_t> parse_timestamp_text(std::string_view text) noexcept {
  if (const auto n = parse_decimal(text)) return n;
  return chat::common::parse_iso8601_ms(text);
}

dead_letter_info normalise(std::span<const header> headers) {
  dead_letter_info info;
  if (any_of(headers, {kh::dlt_original_topic, kh::dlt_original_partition, kh::dlt_original_offset,
                       kh::dlt_original_timestamp, kh::dlt_consumer_group, kh::dlt_exception_class,
                       kh::dlt_exception_message, kh::dlt_attempts, kh::dlt_failed_at})) {
    info.kind = dialect::chat;
    read_chat(headers, info);
  } else if (any_with_prefix(headers, sh::prefix)) {
    info.kind = dialect::spring;
    read_spring(headers, info);
  } else if (any_with_prefix(headers, ch::prefix)) {
    info.kind = dialect::connect;
    read_connect(headers, info);
  }
  // dlt-replay's own headers, whatever the dialect: a Spring or Connect consumer that
  // copies headers carries them back into its dead-letter topic as well.
  info.replay_count =
      decimal_of<std::int32_t>(find(headers, kh::dlt_replay_count).last, kh::dlt_replay_count, info.problems)
          .value_or(0);
  if (info.replay_count < 0) {
    info.problems.push_back(std::string(kh::dlt_replay_count) + ": negative");
    info.replay_count = 0;
  }
  info.replayed_from = text_of(find(headers, kh::dlt_replayed_from).last);
  info.replayed_at_ms = timestamp_of(find(headers, kh::dlt_replayed_at).last, kh::dlt_replayed_at, info.problems);
  return info;
}

bool is_dead_letter_header(std::string_view name) noexcept {
  return name.starts_with(kh::dlt_prefix) || name.starts_with(sh::prefix) || name.starts_with(ch::prefix);
}

header_meaning describe(const header& h) {
  header_meaning m;
  const std::string_view n = h.name;
  if (n == sh::original_partition) {
    if (const auto v = decode_be_int32(h.value)) {
      m.number = *v;
      m.binary = true;
    }
  } else if (n == sh::original_offset || n == sh::original_timestamp) {
    if (const auto v = decode_be_int64(h.value)) {
      m.number = *v;
      m.binary = true;
    }
    m.timestamp = n == sh::original_timestamp;
  } else if (n == kh::dlt_original_timestamp || n == kh::dlt_failed_at || n == kh::dlt_replayed_at ||
             n == kh::sent_at) {
    m.number = parse_timestamp_text(h.value);
    m.timestamp = true;
  } else if (n == kh::dlt_original_partition || n == kh::dlt_original_offset || n == kh::dlt_attempts ||
             n == kh::dlt_replay_count || n == ch::original_partition || n == ch::original_offset) {
    m.number = parse_decimal(h.value);
  }
  if (!m.number) {
    m.timestamp = false;
    m.binary = false;
  }
  return m;
}

}  // namespace dlt_replay
