#pragma once
// Small helpers shared by the SQL repositories (store/*.cpp). Internal to store/.
#include <chat/proto/message.hpp>

#include <pqxx/pqxx>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace chat::store::detail {

// Epoch milliseconds of a timestamptz column, truncated toward the past (as
// format_iso8601_ms expects); a SQL fragment for string-literal concatenation.
#define CHAT_SQL_MS(col) "floor(extract(epoch FROM " col ") * 1000)::bigint"

inline std::string_view text_of(const pqxx::field& f) { return {f.c_str(), f.size()}; }

// A PostgreSQL array literal "{1,2,3}" for a `$n::bigint[]` parameter. Built from integers
// only, so no quoting is needed.
inline std::string bigint_array(const std::vector<std::int64_t>& ids) {
  std::string out = "{";
  for (std::size_t i = 0; i < ids.size(); ++i) {
    if (i != 0) out.push_back(',');
    out += std::to_string(ids[i]);
  }
  out.push_back('}');
  return out;
}

// The message columns in the order read_message() expects, for a table alias `m`.
#define CHAT_SQL_MESSAGE_COLUMNS(m)                                                              \
  m ".id, " m ".message_key::text, " m ".room_id, " m ".sender_id, " m ".sender_nickname, " m \
  ".content, " m ".type, " CHAT_SQL_MS(m ".created_at")
inline constexpr int message_column_count = 8;

// A §2 message from the CHAT_SQL_MESSAGE_COLUMNS starting at column `first`.
inline proto::chat_message read_message(const pqxx::row& row, int first) {
  proto::chat_message m;
  m.id = row[first].as<std::int64_t>();
  m.message_key.assign(row[first + 1].c_str(), row[first + 1].size());
  m.room_id = row[first + 2].as<std::int64_t>();
  m.sender_id = row[first + 3].as<std::int64_t>();
  m.sender_nickname.assign(row[first + 4].c_str(), row[first + 4].size());
  m.content.assign(row[first + 5].c_str(), row[first + 5].size());
  m.type = proto::parse_message_type(text_of(row[first + 6])).value_or(proto::message_type::text);
  m.created_at_ms = row[first + 7].as<std::int64_t>();
  return m;
}

// Prepared statements are defined per connection; libpqxx 6 prepares them on the server
// lazily at first use and ignores a re-definition with identical text, so calling this
// before every exec_prepared is cheap and survives the pool replacing a broken connection.
inline void define(pqxx::connection& conn, const std::string& name, const std::string& sql) {
  conn.prepare(name, sql);
}

}  // namespace chat::store::detail
