#pragma once
// A dead-lettered record as dlt-replay sees it: where it sits in the dead-letter topic, its
// key, value and headers as bytes, and what its headers say about where it came from and
// why it failed, normalised over the three header dialects (dialect.hpp).
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace dlt_replay {

// One record header; name and value are bytes as on the wire (names repeat).
struct header {
  std::string name;
  std::string value;

  friend bool operator==(const header&, const header&) = default;
};

// topic:partition:offset of a record.
struct position {
  std::string topic;
  std::int32_t partition = -1;
  std::int64_t offset = -1;

  friend bool operator==(const position&, const position&) = default;
};

// "topic:partition:offset" (the value of dlt-replayed-from and the ledger's key).
std::string to_string(const position& p);
// Inverse of to_string(): the topic is everything before the second-to-last ':'.
std::optional<position> parse_position(std::string_view text);

// Who wrote the dead-letter headers.
enum class dialect {
  chat,     // this project: dlt-* (docs/topics.md)
  spring,   // Spring Kafka DeadLetterPublishingRecoverer: kafka_dlt-*
  connect,  // Kafka Connect errors.deadletterqueue: __connect.errors.*
  none,     // no dead-letter headers at all
};

std::string_view to_string(dialect d) noexcept;
std::optional<dialect> parse_dialect(std::string_view text) noexcept;

// What the dead-letter headers say, whatever their dialect. Every field is optional:
// headers may be missing or undecodable (listed in `problems`).
struct dead_letter_info {
  dialect kind = dialect::none;

  // The record that failed.
  std::optional<std::string> origin_topic;
  std::optional<std::int32_t> origin_partition;
  std::optional<std::int64_t> origin_offset;
  std::optional<std::int64_t> origin_timestamp_ms;
  std::optional<std::string> consumer_group;
  std::optional<std::string> connector;  // Kafka Connect only: the connector's name
  std::optional<std::string> task_id;    // Kafka Connect only
  std::optional<std::string> stage;      // Kafka Connect only: e.g. VALUE_CONVERTER

  // The failure (the most recent one when the record was dead-lettered several times).
  std::optional<std::string> error_class;
  std::optional<std::string> error_message;
  std::optional<std::string> stacktrace;
  std::optional<std::int32_t> attempts;
  std::optional<std::int64_t> failed_at_ms;

  // How often the record was dead-lettered (Spring: one set of original headers each time).
  int dead_letter_count = 0;
  // dlt-replay's own bookkeeping, carried through the consumer and back into the DLT.
  std::int32_t replay_count = 0;  // dlt-replay-count; 0 when absent
  std::optional<std::string> replayed_from;
  std::optional<std::int64_t> replayed_at_ms;

  // "header: why" for each dead-letter header that could not be decoded.
  std::vector<std::string> problems;
};

// A record of a dead-letter topic, or one line of an export file.
struct dead_letter {
  position dlt;                    // where it sits in the dead-letter topic
  std::int64_t timestamp_ms = -1;  // the dead-letter record's own timestamp; -1 unknown
  std::optional<std::string> key;  // nullopt: no key
  std::string value;
  std::vector<header> headers;  // every header, in record order
  dead_letter_info info;        // normalise(headers), possibly edited (export file)

  // The time a dead letter is listed and filtered by: when it failed (failed-at header),
  // else when it was written to the dead-letter topic.
  std::optional<std::int64_t> time_ms() const noexcept;
  // The room the record belongs to: its key when that is a room id, else the payload's
  // "roomId". nullopt when neither says.
  std::optional<std::string> room() const;
};

// The "roomId" of a JSON object payload, as text; nullopt when there is none.
std::optional<std::string> payload_room_id(std::string_view value);

// The room event a chat.messages payload is (docs/events.md): its "event" member
// ("message.edited", "reaction.added", ...), or "message" for an object with "content" and no
// "event" (plain messages omit it); nullopt for anything else (a read receipt, text, bytes).
std::optional<std::string> payload_event(std::string_view value);

}  // namespace dlt_replay
