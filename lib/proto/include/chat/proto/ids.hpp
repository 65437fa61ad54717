#pragma once
// Numeric identifiers: user, room and message ids are positive int64 values.
#include <cstdint>
#include <optional>
#include <string_view>

namespace chat::proto {

// A canonical positive int64 in decimal, as in "/topic/room.42", "/api/rooms/42" or a JWT
// "sub": digits only, no sign, no leading zero, no whitespace, at most 2^63-1.
std::optional<std::int64_t> parse_positive_id(std::string_view text) noexcept;

// Message ids (docs/events.md) are derived from the record's position in chat.messages, which both
// consumer groups see identically:  id = (partition << 40) | offset.
// Limits: 0 <= partition < 2^23 and 0 <= offset < 2^40 (about 1.1e12 records per
// partition), so an id is a non-negative int64 that grows with the offset within a
// partition, i.e. in a room's order. The partition count of chat.messages is therefore fixed
// for the life of a deployment: repartitioning would remap rooms onto other partitions.
inline constexpr int message_id_offset_bits = 40;
inline constexpr std::int32_t max_message_id_partition = (std::int32_t{1} << 23) - 1;
inline constexpr std::int64_t max_message_id_offset = (std::int64_t{1} << message_id_offset_bits) - 1;

constexpr bool fits_message_id(std::int32_t partition, std::int64_t offset) noexcept {
  return partition >= 0 && partition <= max_message_id_partition && offset >= 0 && offset <= max_message_id_offset;
}

// Precondition: fits_message_id(partition, offset).
constexpr std::int64_t make_message_id(std::int32_t partition, std::int64_t offset) noexcept {
  return static_cast<std::int64_t>(partition) << message_id_offset_bits | offset;
}

constexpr std::int32_t message_id_partition(std::int64_t id) noexcept {
  return static_cast<std::int32_t>(id >> message_id_offset_bits);
}

constexpr std::int64_t message_id_offset(std::int64_t id) noexcept { return id & max_message_id_offset; }

}  // namespace chat::proto
