#pragma once
// The three dead-letter header dialects dlt-replay reads (docs/topics.md, docs/dlt-replay.md), normalised into
// one dead_letter_info. Header names come from chat/proto/names.hpp.
//
//   chat     dlt-original-topic / -partition / -offset / -timestamp, dlt-consumer-group,
//            dlt-exception-class / -message, dlt-attempts, dlt-failed-at: UTF-8 text,
//            numbers in decimal, timestamps in Unix milliseconds (decimal; RFC 3339 text
//            is accepted too).
//   spring   kafka_dlt-original-topic (text), -partition (4-byte big-endian int),
//            -offset and -timestamp (8-byte big-endian), -consumer-group, exception-fqcn,
//            -message, -stacktrace (text). A record dead-lettered twice carries the
//            original-* headers twice: the first is the origin, and the last exception-*
//            header is the latest failure.
//   connect  __connect.errors.topic / .partition / .offset (decimal text),
//            .connector.name, .task.id, .stage, .exception.class.name, .exception.message,
//            .exception.stacktrace (text).
//
// Every dialect: origin from the first occurrence of a header, failure from the last.
#include "core/dead_letter.hpp"

#include <optional>
#include <span>
#include <string_view>

namespace dlt_replay {

dead_letter_info normalise(std::span<const header> headers);

// Headers written by a dead-lettering framework or by dlt-replay itself (dlt-*,
// kafka_dlt-*, __connect.errors.*). A replay does not forward them: the consumer that
// fails the record again writes fresh ones, and dlt-replay writes its own.
bool is_dead_letter_header(std::string_view name) noexcept;

// How one header reads for a human and in JSON.
struct header_meaning {
  std::optional<std::int64_t> number;  // numeric headers of a known dialect, decoded
  bool timestamp = false;              // `number` is Unix milliseconds
  bool binary = false;                 // the wire value is a big-endian integer
};

header_meaning describe(const header& h);

// A timestamp header value: decimal Unix milliseconds, or RFC 3339 text.
std::optional<std::int64_t> parse_timestamp_text(std::string_view text) noexcept;

}  // namespace dlt_replay
