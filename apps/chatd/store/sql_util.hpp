#pragma once
// Internal to store/: what the PostgreSQL adapter's translation units (store/*.cpp) share.
// Nothing here names the vendor library: row and connection types are template
// parameters, and a session carries its connection type-erased, so that this header (like
// every header) compiles without the client library; each store/*.cpp includes it itself.
#include "store/error.hpp"
#include "store/rooms.hpp"
#include "store/session.hpp"

#include <chat/proto/message.hpp>

#include <any>
#include <cstdint>
#include <exception>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace chat::store {

// Defined here so the adapter's translation units can reach the connection; callers
// outside store/ only hold references to it (session.hpp).
class session {
 public:
  template <class Connection>
  explicit session(Connection& conn) : native_(&conn) {}

  // The adapter's connection object; Connection must be the type the session was made
  // from (std::bad_any_cast otherwise: a bug in the adapter, not a runtime condition).
  template <class Connection>
  Connection& native() const {
    return *std::any_cast<Connection*>(native_);
  }

 private:
  std::any native_;
};

namespace detail {

// Epoch milliseconds of a timestamptz column, truncated toward the past (as
// format_iso8601_ms expects); a SQL fragment for string-literal concatenation.
#define CHAT_SQL_MS(col) "floor(extract(epoch FROM " col ") * 1000)::bigint"

template <class Field>
std::string_view text_of(const Field& f) {
  return {f.c_str(), f.size()};
}

// A nullable column: nullopt for NULL.
template <class Field>
std::optional<std::string> optional_text(const Field& f) {
  if (f.is_null()) return std::nullopt;
  return std::string(f.c_str(), f.size());
}
template <class Field>
std::optional<std::int64_t> optional_int64(const Field& f) {
  if (f.is_null()) return std::nullopt;
  return f.template as<std::int64_t>();
}

// A PostgreSQL array literal "{1,2,3}" for a `$n::bigint[]` parameter. Built from integers
// only, so no quoting is needed.
std::string bigint_array(const std::vector<std::int64_t>& ids);

// {"a","b\"c"}: every element double-quoted, '"' and '\' escaped, so any text (commas,
// braces, the word NULL, empty strings) stays one element. Text must not contain NUL
// (PostgreSQL text cannot hold it).
std::string text_array(const std::vector<std::string_view>& values);

// The message columns in the order read_message() expects, for a table alias `m`.
#define CHAT_SQL_MESSAGE_COLUMNS(m)                                                                          \
  m ".id, " m ".message_key::text, " m ".room_id, " m ".sender_id, " m ".sender_nickname, " m ".content, " m \
    ".type, " CHAT_SQL_MS(m ".created_at")
inline constexpr int message_column_count = 8;

// A docs/events.md message from the CHAT_SQL_MESSAGE_COLUMNS starting at column `first`.
template <class Row>
proto::chat_message read_message(const Row& row, int first) {
  proto::chat_message m;
  m.id = row[first].template as<std::int64_t>();
  m.message_key.assign(row[first + 1].c_str(), row[first + 1].size());
  m.room_id = row[first + 2].template as<std::int64_t>();
  m.sender_id = row[first + 3].template as<std::int64_t>();
  m.sender_nickname.assign(row[first + 4].c_str(), row[first + 4].size());
  m.content.assign(row[first + 5].c_str(), row[first + 5].size());
  m.type = proto::parse_message_type(text_of(row[first + 6])).value_or(proto::message_type::text);
  m.created_at_ms = row[first + 7].template as<std::int64_t>();
  return m;
}

// The columns a history item reads from messages besides CHAT_SQL_MESSAGE_COLUMNS, for a
// subquery that selects them from messages (SELECT CHAT_SQL_ITEM_SOURCE_COLUMNS FROM messages …).
#define CHAT_SQL_ITEM_SOURCE_COLUMNS                                                               \
  "id, message_key, room_id, sender_id, sender_nickname, content, type, created_at, reply_to_id, " \
  "thread_root_id, attachment, forwarded_from, edited_at, deleted, reply_count, last_reply_at, scheduled_for, preview"

// A history item's columns (SPEC §13: the message and its current state) for a table alias `m`
// with the CHAT_SQL_ITEM_SOURCE_COLUMNS and the caller's id as parameter `caller` ("$2"), in the
// order read_history_item() expects. Reactions come as one JSON array per message,
// [[emoji, count, me], …] in first-reaction order, from a correlated subquery over
// message_reactions' primary key (message_id, emoji, user_id); `pinned` probes room_pins'
// primary key. One statement per page, however many messages: no query per message.
#define CHAT_SQL_ITEM_COLUMNS(m, caller)                                                                              \
  CHAT_SQL_MESSAGE_COLUMNS(m)                                                                                         \
  ", " m ".reply_to_id, " m ".thread_root_id, " m ".attachment::text, " m                                             \
  ".forwarded_from::text, " CHAT_SQL_MS(m ".edited_at") ", " m ".deleted, " m ".reply_count, " CHAT_SQL_MS(           \
      m ".last_reply_at") ", EXISTS (SELECT 1 FROM room_pins p WHERE p.room_id = " m ".room_id AND p.message_id = " m \
                          ".id), "                                                                                    \
                          "(SELECT json_agg(json_build_array(x.emoji, x.n, x.mine) ORDER BY x.first)::text FROM ("    \
                          "SELECT r.emoji, count(*) AS n, bool_or(r.user_id = " caller                                \
                          ") AS mine, min(r.event_id) AS first "                                                      \
                          "FROM message_reactions r WHERE r.message_id = " m                                          \
                          ".id GROUP BY r.emoji) x), " CHAT_SQL_MS(m ".scheduled_for") ", " m ".preview::text"
inline constexpr int item_column_count = message_column_count + 12;

// `AND NOT EXISTS …`: excludes the messages (column `id` of the scanned messages row, named by
// `id_col`) that user `user` hid for themselves (delete-for-me, message_hidden's primary key).
#define CHAT_SQL_NOT_HIDDEN(id_col, user) \
  " AND NOT EXISTS (SELECT 1 FROM message_hidden h WHERE h.user_id = " user " AND h.message_id = " id_col ") "

// `AND …`: excludes the messages (a messages row whose columns `sender_id` and `type` are named by
// `sender_col` and `type_col`) of users whom `user` blocks (SPEC §15, store/blocks.hpp): a probe of
// user_blocks' primary key per row. SYSTEM notices (joined, left) stay: they are the room's.
#define CHAT_SQL_NOT_BLOCKED(sender_col, type_col, user)                                                  \
  " AND (" type_col " = 'SYSTEM' OR NOT EXISTS (SELECT 1 FROM user_blocks ub WHERE ub.blocker_id = " user \
  " AND ub.blocked_id = " sender_col ")) "

// A boolean SQL expression: either of the users `a` and `b` (SQL expressions) blocks the other.
#define CHAT_SQL_BLOCKED_PAIR(a, b)                                                          \
  "EXISTS (SELECT 1 FROM user_blocks ub WHERE (ub.blocker_id = " a " AND ub.blocked_id = " b \
  ") OR (ub.blocker_id = " b " AND ub.blocked_id = " a "))"

// store::is_blocked_pair inside a transaction of the caller's (e.g. a friend request's): either of
// `a` and `b` blocks the other.
template <class Transaction>
bool blocked_pair_in(Transaction& tx, std::int64_t a, std::int64_t b) {
  return tx.exec_params("SELECT " CHAT_SQL_BLOCKED_PAIR("$1::bigint", "$2::bigint"), a, b)[0][0].template as<bool>();
}

// The JSON members of a messages row, parsed leniently (nullopt / empty for anything unreadable:
// the persistence consumer wrote them from validated events). Defined in history.cpp.
std::optional<proto::file_attachment> attachment_of_json(std::string_view json);
std::optional<proto::forward_origin> forward_origin_of_json(std::string_view json);
std::vector<proto::reaction_count> reactions_of_json(std::string_view json);
std::optional<proto::link_preview> link_preview_of_json(std::string_view json);

// A history item from the CHAT_SQL_ITEM_COLUMNS starting at column `first`: the message as it is
// now. A deleted message is a tombstone: content and attachment empty, no reactions, not pinned.
template <class Row>
proto::chat_message read_history_item(const Row& row, int first) {
  proto::chat_message m = read_message(row, first);
  int c = first + message_column_count;
  if (!row[c].is_null()) m.reply_to_id = row[c].template as<std::int64_t>();
  ++c;
  if (!row[c].is_null()) m.thread_root_id = row[c].template as<std::int64_t>();
  ++c;
  if (!row[c].is_null()) m.attachment = attachment_of_json(text_of(row[c]));
  ++c;
  if (!row[c].is_null()) m.forwarded_from = forward_origin_of_json(text_of(row[c]));
  ++c;
  proto::message_state state;
  if (!row[c].is_null()) state.edited_at_ms = row[c].template as<std::int64_t>();
  ++c;
  state.deleted = row[c++].template as<bool>();
  state.reply_count = row[c++].template as<std::int64_t>();
  if (!row[c].is_null()) state.last_reply_at_ms = row[c].template as<std::int64_t>();
  ++c;
  state.pinned = row[c++].template as<bool>();
  if (!row[c].is_null()) state.reactions = reactions_of_json(text_of(row[c]));
  ++c;
  if (!row[c].is_null()) m.scheduled_for_ms = row[c].template as<std::int64_t>();
  ++c;
  if (!row[c].is_null()) state.preview = link_preview_of_json(text_of(row[c]));
  if (state.deleted) {
    m.content.clear();
    m.attachment.reset();
    state.reactions.clear();
    state.pinned = false;
    state.preview.reset();
  }
  m.state = std::move(state);
  return m;
}

// Prepared statements are defined per connection; the client library prepares them on the server
// lazily at first use and ignores a re-definition with identical text, so calling this
// before every exec_prepared is cheap and survives the pool replacing a broken connection.
template <class Connection>
void define(Connection& conn, const std::string& name, const std::string& sql) {
  conn.prepare(name, sql);
}

// access_of without the guard, for statements that already run inside one (rooms.cpp).
room_access query_access(session& db, std::int64_t room_id, std::int64_t user_id);

// The store error for an exception thrown by the client library (or anything else: internal).
error failure_of(std::exception_ptr e) noexcept;

template <class T>
inline constexpr bool is_result = false;
template <class T>
inline constexpr bool is_result<result<T>> = true;

template <class R>
using guarded_result = std::conditional_t<is_result<R>, R, result<R>>;

// Runs `work()` and returns what it returns (work may return a result<T> itself, to report
// an error of its own), or the error for what it threw. The one place where the adapter
// turns the client library's exceptions into results.
template <class Work>
auto guarded(Work&& work) -> guarded_result<std::invoke_result_t<Work&>> {
  try {
    if constexpr (std::is_void_v<std::invoke_result_t<Work&>>) {
      work();
      return {};
    } else {
      return work();
    }
  } catch (...) {
    return chat::unexpected(failure_of(std::current_exception()));
  }
}

}  // namespace detail
}  // namespace chat::store
