#pragma once
// Ports of the two consumers that write PostgreSQL (pipeline/persistence_handler,
// pipeline/receipts_handler): each call is ONE transaction over a whole batch, so a batch
// costs a fixed number of round trips however many records it holds. The PostgreSQL
// adapters own their connection (one consumer thread each) and reconnect after a failure.
#include "store/error.hpp"

#include <chat/proto/message.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace chat::store {

// A member's read state as a write left it, with the version the unread cache orders
// writes by (clock_timestamp() in µs taken while the row was locked; see
// pipeline/unread_cache.hpp).
struct unread_change {
  std::int64_t room_id = 0;
  std::int64_t user_id = 0;
  std::int64_t unread_count = 0;
  std::int64_t last_read_message_id = 0;
  std::int64_t version = 0;

  friend bool operator==(const unread_change&, const unread_change&) = default;
};

// ---- chat.messages -> messages ------------------------------------------------------------

struct message_row {
  const proto::chat_message* message = nullptr;  // message->id is set; outlives the call
  std::int32_t partition = 0;
  std::int64_t offset = 0;
};

struct persisted {
  std::vector<std::size_t> unknown_room;  // positions in the rows given to persist()
  std::vector<std::size_t> unknown_sender;
  std::size_t inserted = 0;           // rows new in messages (a messageKey seen before inserts none)
  std::vector<unread_change> unread;  // members whose unread count grew
};

class message_writer {
 public:
  virtual ~message_writer() = default;
  // One transaction: which rooms and senders exist, the INSERT of the rest (ON CONFLICT
  // (message_key) DO NOTHING), then the unread counts of the other members. An error rolls
  // everything back; error::about_the_data() tells a refused value from a failure worth
  // retrying. Precondition: `rows` is not empty.
  virtual result<persisted> persist(std::span<const message_row> rows) = 0;
};

// ---- chat.read-receipts -> chat_room_members ----------------------------------------------

struct read_mark {
  std::int64_t room_id = 0;
  std::int64_t user_id = 0;
  std::int64_t last_read_message_id = 0;
};

class read_mark_writer {
 public:
  virtual ~read_mark_writer() = default;
  // One transaction: locks the member rows in (room, user) order, moves
  // last_read_message_id forwards only and recomputes unread_count. Returns the rows it
  // changed; a mark of a non-member (or an unknown room) changes none. At most one mark
  // per (room, user). Precondition: `marks` is not empty.
  virtual result<std::vector<unread_change>> apply(std::span<const read_mark> marks) = 0;
};

// The PostgreSQL adapters. `application_name` shows in pg_stat_activity; nothing connects
// before the first call. A connection that failed is dropped, the next call reconnects.
std::unique_ptr<message_writer> make_pg_message_writer(std::string url, std::string application_name,
                                                       std::chrono::milliseconds connect_timeout);
std::unique_ptr<read_mark_writer> make_pg_read_mark_writer(std::string url, std::string application_name,
                                                           std::chrono::milliseconds connect_timeout);

}  // namespace chat::store
