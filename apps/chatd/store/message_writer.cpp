#include "store/message_writer.hpp"

#include "store/connection.hpp"
#include "store/sql_util.hpp"

#include <pqxx/pqxx>

#include <algorithm>
#include <unordered_set>

namespace chat::store {
namespace {

// The unread cache's version of a member row: µs of the clock while the row is locked, so a
// later transaction on that row has a larger one (pipeline/unread_cache.hpp).
#define CHAT_SQL_UNREAD_VERSION "(extract(epoch FROM clock_timestamp()) * 1000000)::bigint"

constexpr const char* known_ids_sql =
    "SELECT 'r', id FROM chat_rooms WHERE id = ANY($1::bigint[]) "
    "UNION ALL SELECT 'u', id FROM users WHERE id = ANY($2::bigint[])";

constexpr const char* insert_sql =
    "INSERT INTO messages (id, message_key, room_id, sender_id, sender_nickname, content, type, "
    "                      kafka_partition, kafka_offset, created_at) "
    "SELECT t.id, t.message_key, t.room_id, t.sender_id, t.sender_nickname, t.content, t.type, "
    "       t.kafka_partition, t.kafka_offset, timestamptz 'epoch' + t.created_ms * interval '1 millisecond' "
    "FROM unnest($1::bigint[], $2::uuid[], $3::bigint[], $4::bigint[], $5::text[], $6::text[], $7::text[], "
    "            $8::int[], $9::bigint[], $10::bigint[]) "
    "     WITH ORDINALITY AS t(id, message_key, room_id, sender_id, sender_nickname, content, type, "
    "                          kafka_partition, kafka_offset, created_ms, ord) "
    "ORDER BY t.ord "
    "ON CONFLICT (message_key) DO NOTHING "
    "RETURNING id, room_id, sender_id";

// Row locks in one global order, so that two transactions touching the same members
// (this consumer on another node after a rebalance, the read-receipts consumer) queue up
// instead of deadlocking, and the UPDATE below sees last_read_message_id as committed.
constexpr const char* lock_members_sql =
    "SELECT 1 FROM chat_room_members WHERE room_id = ANY($1::bigint[]) ORDER BY room_id, user_id FOR UPDATE";

// For each member: how many of the new messages were sent by someone else and are newer
// than what the member has read (a receipt can overtake persistence: the member saw the
// message live). Message id 0 (partition 0, offset 0) is always unread when stored:
// last_read_message_id 0 is also the column's "nothing read yet".
constexpr const char* unread_sql =
    "UPDATE chat_room_members m SET unread_count = m.unread_count + d.n "
    "FROM (SELECT mm.room_id, mm.user_id, count(*)::int AS n "
    "      FROM unnest($1::bigint[], $2::bigint[], $3::bigint[]) AS t(id, room_id, sender_id) "
    "      JOIN chat_room_members mm ON mm.room_id = t.room_id "
    "           AND mm.user_id <> t.sender_id AND (t.id > mm.last_read_message_id OR t.id = 0) "
    "      GROUP BY mm.room_id, mm.user_id) AS d "
    "WHERE m.room_id = d.room_id AND m.user_id = d.user_id "
    "RETURNING m.room_id, m.user_id, m.unread_count, m.last_read_message_id, " CHAT_SQL_UNREAD_VERSION;

constexpr const char* lock_marks_sql =
    "SELECT m.room_id FROM chat_room_members m "
    "JOIN unnest($1::bigint[], $2::bigint[]) AS r(room_id, user_id) "
    "  ON m.room_id = r.room_id AND m.user_id = r.user_id "
    "ORDER BY m.room_id, m.user_id FOR UPDATE OF m";

// SET expressions see the row as it was before this UPDATE, so GREATEST(...) is the new
// last-read in both places.
constexpr const char* update_marks_sql =
    "UPDATE chat_room_members m "
    "SET last_read_message_id = GREATEST(m.last_read_message_id, r.last_read), "
    "    unread_count = (SELECT count(*) FROM messages msg "
    "                    WHERE msg.room_id = m.room_id AND msg.sender_id <> m.user_id "
    "                      AND msg.id > GREATEST(m.last_read_message_id, r.last_read))::int "
    "FROM unnest($1::bigint[], $2::bigint[], $3::bigint[]) AS r(room_id, user_id, last_read) "
    "WHERE m.room_id = r.room_id AND m.user_id = r.user_id "
    "RETURNING m.room_id, m.user_id, m.unread_count, m.last_read_message_id, " CHAT_SQL_UNREAD_VERSION;

#undef CHAT_SQL_UNREAD_VERSION

template <class Row>
unread_change unread_of(const Row& row) {
  return {row[0].template as<std::int64_t>(), row[1].template as<std::int64_t>(), row[2].template as<std::int64_t>(),
          row[3].template as<std::int64_t>(), row[4].template as<std::int64_t>()};
}

persisted persist_in(pqxx::connection& conn, std::span<const message_row> rows) {
  persisted out;
  pqxx::work tx(conn);

  std::vector<std::int64_t> rooms;
  std::vector<std::int64_t> senders;
  for (const auto& r : rows) {
    rooms.push_back(r.message->room_id);
    senders.push_back(r.message->sender_id);
  }
  std::unordered_set<std::int64_t> known_rooms;
  std::unordered_set<std::int64_t> known_users;
  for (const auto& row : tx.exec_params(known_ids_sql, detail::bigint_array(rooms), detail::bigint_array(senders))) {
    (row[0].c_str()[0] == 'r' ? known_rooms : known_users).insert(row[1].as<std::int64_t>());
  }

  std::vector<std::int64_t> ids, room_ids, sender_ids, partitions, offsets, created;
  std::vector<std::string_view> keys, nicknames, contents, types;
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const auto& m = *rows[i].message;
    if (!known_rooms.contains(m.room_id)) {
      out.unknown_room.push_back(i);
      continue;
    }
    if (!known_users.contains(m.sender_id)) {
      out.unknown_sender.push_back(i);
      continue;
    }
    ids.push_back(m.id);
    keys.push_back(m.message_key);
    room_ids.push_back(m.room_id);
    sender_ids.push_back(m.sender_id);
    nicknames.push_back(m.sender_nickname);
    contents.push_back(m.content);
    types.push_back(proto::to_string(m.type));
    partitions.push_back(rows[i].partition);
    offsets.push_back(rows[i].offset);
    created.push_back(m.created_at_ms);
  }
  if (ids.empty()) {
    tx.commit();
    return out;
  }

  using detail::bigint_array;
  using detail::text_array;
  const auto inserted =
      tx.exec_params(insert_sql, bigint_array(ids), text_array(keys), bigint_array(room_ids), bigint_array(sender_ids),
                     text_array(nicknames), text_array(contents), text_array(types), bigint_array(partitions),
                     bigint_array(offsets), bigint_array(created));
  out.inserted = static_cast<std::size_t>(inserted.size());
  if (out.inserted != 0) {
    std::vector<std::int64_t> new_ids, new_rooms, new_senders;
    for (const auto& row : inserted) {
      new_ids.push_back(row[0].as<std::int64_t>());
      new_rooms.push_back(row[1].as<std::int64_t>());
      new_senders.push_back(row[2].as<std::int64_t>());
    }
    tx.exec_params(lock_members_sql, bigint_array(new_rooms));
    for (const auto& row :
         tx.exec_params(unread_sql, bigint_array(new_ids), bigint_array(new_rooms), bigint_array(new_senders))) {
      out.unread.push_back(unread_of(row));
    }
  }
  tx.commit();
  return out;
}

std::vector<unread_change> apply_in(pqxx::connection& conn, std::span<const read_mark> marks) {
  std::vector<std::int64_t> rooms, users, last_reads;
  for (const auto& m : marks) {
    rooms.push_back(m.room_id);
    users.push_back(m.user_id);
    last_reads.push_back(m.last_read_message_id);
  }
  using detail::bigint_array;
  std::vector<unread_change> out;
  pqxx::work tx(conn);
  tx.exec_params(lock_marks_sql, bigint_array(rooms), bigint_array(users));
  for (const auto& row :
       tx.exec_params(update_marks_sql, bigint_array(rooms), bigint_array(users), bigint_array(last_reads))) {
    out.push_back(unread_of(row));
  }
  tx.commit();
  return out;
}

int timeout_seconds(std::chrono::milliseconds timeout) {
  return static_cast<int>(std::max<std::int64_t>(1, (timeout.count() + 999) / 1000));
}

// Runs `work(pqxx::connection&)` on `db`'s connection; drops the connection after a failure
// that is not about the data (it may be broken, or in an unknown state).
template <class Work>
auto on_connection(connection& db, Work work) -> result<std::invoke_result_t<Work&, pqxx::connection&>> {
  std::string connect_error;
  session* s = db.get(connect_error);
  if (s == nullptr) return chat::unexpected(error{errc::unavailable, {}, std::move(connect_error)});
  auto out = detail::guarded([&] { return work(s->native<pqxx::connection>()); });
  if (!out && !out.error().about_the_data()) db.reset();
  return out;
}

class pg_message_writer final : public message_writer {
 public:
  pg_message_writer(std::string url, std::string_view application_name, std::chrono::milliseconds connect_timeout)
      : db_(with_session_parameters(std::move(url), application_name), timeout_seconds(connect_timeout)) {}

  result<persisted> persist(std::span<const message_row> rows) override {
    return on_connection(db_, [rows](pqxx::connection& conn) { return persist_in(conn, rows); });
  }

 private:
  connection db_;
};

class pg_read_mark_writer final : public read_mark_writer {
 public:
  pg_read_mark_writer(std::string url, std::string_view application_name, std::chrono::milliseconds connect_timeout)
      : db_(with_session_parameters(std::move(url), application_name), timeout_seconds(connect_timeout)) {}

  result<std::vector<unread_change>> apply(std::span<const read_mark> marks) override {
    return on_connection(db_, [marks](pqxx::connection& conn) { return apply_in(conn, marks); });
  }

 private:
  connection db_;
};

}  // namespace

std::unique_ptr<message_writer> make_pg_message_writer(std::string url, std::string application_name,
                                                       std::chrono::milliseconds connect_timeout) {
  return std::make_unique<pg_message_writer>(std::move(url), application_name, connect_timeout);
}

std::unique_ptr<read_mark_writer> make_pg_read_mark_writer(std::string url, std::string application_name,
                                                           std::chrono::milliseconds connect_timeout) {
  return std::make_unique<pg_read_mark_writer>(std::move(url), application_name, connect_timeout);
}

}  // namespace chat::store
