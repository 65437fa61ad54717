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
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
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
  // read_mark_writer only: this write moved last_read_message_id forwards (a repeated or
  // older mark leaves it where it was). Always false from the message writer.
  bool mark_moved = false;

  friend bool operator==(const unread_change&, const unread_change&) = default;
};

// ---- chat.messages -> messages, room_events ----------------------------------------------

struct message_row {
  const proto::chat_message* message = nullptr;  // message->id is set; outlives the call
  std::int32_t partition = 0;
  std::int64_t offset = 0;
};

// What the store knows about the target of a room event (SPEC §13) when a batch's new events
// are folded: the parts of the message the rules a race can change look at.
struct event_target {
  std::int64_t id = 0;
  std::int64_t room_id = 0;
  std::int64_t sender_id = 0;
  proto::message_type type = proto::message_type::text;
  bool deleted = false;
  std::int64_t created_at_ms = 0;
  bool pinned = false;
  int room_pin_count = 0;  // pinned messages of the target's room

  friend bool operator==(const event_target&, const event_target&) = default;
};

// A new event the fold did not apply, and why (a word, for the log line).
struct dropped_event {
  std::size_t position = 0;  // in the events given to the fold
  std::string_view reason;
};

// What a batch's new events change, as set-based writes (pipeline/event_fold computes it).
struct event_effects {
  struct message_update {
    std::int64_t id = 0;
    std::string content;                       // the new content; "" when deleted
    std::optional<std::int64_t> edited_at_ms;  // set by an applied edit
    bool deleted = false;                      // tombstone: attachment, file, preview, reactions and pin go
    friend bool operator==(const message_update&, const message_update&) = default;
  };
  struct reaction {
    std::int64_t message_id = 0;
    std::string emoji;
    std::int64_t user_id = 0;
    std::int64_t event_id = 0;  // reactions_added: the event that added it
    friend bool operator==(const reaction&, const reaction&) = default;
  };
  struct pin {
    std::int64_t room_id = 0;
    std::int64_t message_id = 0;
    std::int64_t pinned_by = 0;
    std::int64_t pinned_at_ms = 0;
    friend bool operator==(const pin&, const pin&) = default;
  };
  struct preview {
    std::int64_t message_id = 0;
    proto::link_preview value;
    friend bool operator==(const preview&, const preview&) = default;
  };

  std::vector<message_update> messages;  // at most one per message
  // Rows of message_reactions to delete (event_id unused), then rows to insert (ON CONFLICT DO
  // NOTHING: a reaction already there keeps its first event). A reaction removed and added
  // again within the batch is in both.
  std::vector<reaction> reactions_removed;
  std::vector<reaction> reactions_added;
  std::vector<std::int64_t> unpinned;  // message ids whose room_pins row goes (unpinned or deleted)
  std::vector<pin> pinned;
  // messages.preview set (at most one per message; never a message deleted by the end of the batch).
  std::vector<preview> previews;
  std::vector<dropped_event> dropped;  // room_events.applied = false
};

// Folds `events` (the batch's room events that were new in room_events, in partition order)
// into the state `targets` (one per existing target; a target absent from it does not exist).
using event_folder = std::function<event_effects(std::span<const proto::chat_message* const> events,
                                                 std::span<const event_target> targets)>;

struct persisted {
  // Positions in the rows given to persist() of records of a room that never existed (poison).
  // A room that was deleted (deleted_rooms, sql/0008) is no unknown room: see records_dropped.
  std::vector<std::size_t> unknown_room;
  std::vector<std::size_t> unknown_sender;
  std::size_t inserted = 0;           // rows new in messages (a messageKey seen before inserts none)
  std::vector<unread_change> unread;  // members whose unread count grew
  // Room events: rows new in room_events (a messageKey seen before applies nothing), and of
  // those the ones the fold dropped, with their reasons (for the log, after the commit).
  std::size_t events_new = 0;
  struct dropped {
    std::size_t row = 0;  // position in the rows given to persist()
    std::string_view reason;
  };
  std::vector<dropped> events_dropped;
  // Records stored nowhere because of their room, never dead-lettered (logged by the caller):
  // "room_deleted" -- any record of a room deleted meanwhile (DELETE /api/rooms/{id}, or its last
  // member left; the race of docs/pipeline.md "Deleted rooms"), room.deleted included;
  // "room_exists" -- a room.deleted of a room that is still there (only a record produced around
  // the REST API can be one: rooms are deleted in PostgreSQL before their event is published).
  std::vector<dropped> records_dropped;
};

// How far the persistence consumer got in one partition of chat.messages: every record below
// `next_offset` was handled (stored, a duplicate, dropped by the fold, or poison). Kept in
// persistence_progress (sql/0004), only ever moved forwards; recovery (store/recovery.hpp)
// waits for it.
struct partition_progress {
  std::int32_t partition = 0;
  std::int64_t next_offset = 0;

  friend bool operator==(const partition_progress&, const partition_progress&) = default;
};

class message_writer {
 public:
  virtual ~message_writer() = default;
  // One transaction: which rooms and senders exist (the batch's rooms locked FOR KEY SHARE, so a
  // room being deleted is either deleted before -- its records are dropped -- or after this
  // transaction, taking its rows with it: never a row left behind); the INSERT of the `message`
  // events and of the events kept as SYSTEM history items (proto::is_history_notice)
  // (ON CONFLICT (message_key) DO NOTHING), the reply counts of the thread roots that got
  // replies and the unread counts of the other members; the INSERT of the other events into
  // room_events (ON CONFLICT (message_key) DO NOTHING RETURNING the new ones), one query for
  // the state of their targets, `fold` over the new ones, and the folded effects written
  // set-based. A fixed number of statements however many rows. An error rolls everything
  // back; error::about_the_data() tells a refused value from a failure worth retrying.
  // `progress` (may be empty) is written in the same transaction, as one more statement
  // (persistence_progress = GREATEST of the stored and the given offset).
  // Precondition: `rows` is not empty.
  virtual result<persisted> persist(std::span<const message_row> rows, const event_folder& fold,
                                    std::span<const partition_progress> progress) = 0;
  // Only the progress, in a transaction of its own: for a batch with no row to store (every
  // record poison), or after a batch stored record by record. Precondition: not empty.
  virtual result<void> record_progress(std::span<const partition_progress> progress) = 0;
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
  // changed (mark_moved set where the mark grew); a mark of a non-member (or an unknown room)
  // changes none. At most one mark
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
