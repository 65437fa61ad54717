#pragma once
// Decoding of chat.messages and chat.read-receipts record values into what the consumers
// work with, and the classification of what cannot be decoded (poison). Pure, no I/O.
#include "pipeline/batch_handler.hpp"

#include <chat/proto/events.hpp>
#include <chat/proto/message.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace chat::chatd::pipeline {

// A chat.messages record that decoded: the docs/events.md message with its id = (partition << 40) |
// offset (proto::make_message_id), identical for every consumer group.
struct message_record {
  std::size_t index = 0;  // position in the batch
  std::int32_t partition = 0;
  std::int64_t offset = 0;
  proto::chat_message message;  // message.id is set
};

// Decodes a chat.messages value. A failure is poison: not JSON or not a valid docs/events.md message
// (proto::parse_chat_message with `max_content_chars`), a position that does not fit a
// message id, or text PostgreSQL cannot store (NUL characters). An "id" in the value is
// ignored: the position decides.
std::optional<record_failure> decode_message(std::size_t index, std::int32_t partition, std::int64_t offset,
                                             std::string_view value, std::size_t max_content_chars,
                                             message_record& out);

// Appends the docs/events.md JSON of a message whose id is assigned, "id" included even when it is 0
// (the record at partition 0, offset 0): proto::append_json omits an id of 0, which it
// takes for "not assigned yet" (the Kafka value).
void append_json_with_id(const proto::chat_message& message, std::string& out);

// The same messageKey more than once in `records` (a client retry produced twice, a
// re-produced record): keeps the first in batch order, which within a partition is the
// lowest offset, so the first record's id wins. Returns how many were removed.
std::size_t keep_first_of_each_key(std::vector<message_record>& records);

struct receipt_record {
  std::size_t index = 0;
  proto::read_receipt receipt;
};

// Decodes a chat.read-receipts value (proto::parse_read_receipt); a failure is poison.
std::optional<record_failure> decode_receipt(std::size_t index, std::string_view value, receipt_record& out);

// One receipt per (room, user): the largest lastReadMessageId of the batch (last-read
// only moves forward, so the others change nothing). Keeps every source index.
struct receipt_update {
  std::int64_t room_id = 0;
  std::int64_t user_id = 0;
  std::int64_t last_read_message_id = 0;
  std::vector<std::size_t> indexes;  // batch positions of the receipts merged here
};
std::vector<receipt_update> merge_receipts(const std::vector<receipt_record>& receipts);

}  // namespace chat::chatd::pipeline
