#include "pipeline/persistence_handler.hpp"

#include <chat/log/log.hpp>
#include <chat/proto/names.hpp>

#include <unordered_set>

namespace chat::chatd::pipeline {

namespace {

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
const std::string unread_sql =
    std::string(
        "UPDATE chat_room_members m SET unread_count = m.unread_count + d.n "
        "FROM (SELECT mm.room_id, mm.user_id, count(*)::int AS n "
        "      FROM unnest($1::bigint[], $2::bigint[], $3::bigint[]) AS t(id, room_id, sender_id) "
        "      JOIN chat_room_members mm ON mm.room_id = t.room_id "
        "           AND mm.user_id <> t.sender_id AND (t.id > mm.last_read_message_id OR t.id = 0) "
        "      GROUP BY mm.room_id, mm.user_id) AS d "
        "WHERE m.room_id = d.room_id AND m.user_id = d.user_id "
        "RETURNING m.room_id, m.user_id, m.unread_count, m.last_read_message_id, ") +
    unread_version_sql;

std::string sqlstate_of(const std::exception& e) {
  if (const auto* sql = dynamic_cast<const pqxx::sql_error*>(&e)) return sql->sqlstate();
  return {};
}

std::string first_line(const char* what) {
  std::string s(what);
  if (const auto nl = s.find('\n'); nl != std::string::npos) s.resize(nl);
  return s;
}

}  // namespace

persistence_handler::persistence_handler(const config& cfg)
    : max_content_chars_(cfg.max_content_chars),
      pg_(cfg.database_url, "chatd-persistence-" + cfg.node_id, cfg.dependency_timeout),
      redis_(redis::parse_url(cfg.redis_url).value_or(redis::endpoint{}), cfg.dependency_timeout) {}

persistence_handler::stored persistence_handler::store(pqxx::connection& conn,
                                                       const std::vector<const message_record*>& rows) {
  stored out;
  pqxx::work tx(conn);

  std::vector<std::int64_t> rooms;
  std::vector<std::int64_t> senders;
  for (const auto* r : rows) {
    rooms.push_back(r->message.room_id);
    senders.push_back(r->message.sender_id);
  }
  std::unordered_set<std::int64_t> known_rooms;
  std::unordered_set<std::int64_t> known_users;
  for (const auto& row : tx.exec_params(known_ids_sql, pg_int_array(rooms), pg_int_array(senders))) {
    (row[0].c_str()[0] == 'r' ? known_rooms : known_users).insert(row[1].as<std::int64_t>());
  }

  std::vector<std::int64_t> ids, room_ids, sender_ids, partitions, offsets, created;
  std::vector<std::string_view> keys, nicknames, contents, types;
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const auto& m = rows[i]->message;
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
    partitions.push_back(rows[i]->partition);
    offsets.push_back(rows[i]->offset);
    created.push_back(m.created_at_ms);
  }
  if (ids.empty()) {
    tx.commit();
    return out;
  }

  const auto inserted =
      tx.exec_params(insert_sql, pg_int_array(ids), pg_text_array(keys), pg_int_array(room_ids),
                     pg_int_array(sender_ids), pg_text_array(nicknames), pg_text_array(contents), pg_text_array(types),
                     pg_int_array(partitions), pg_int_array(offsets), pg_int_array(created));
  out.inserted = static_cast<std::size_t>(inserted.size());
  if (out.inserted != 0) {
    std::vector<std::int64_t> new_ids, new_rooms, new_senders;
    for (const auto& row : inserted) {
      new_ids.push_back(row[0].as<std::int64_t>());
      new_rooms.push_back(row[1].as<std::int64_t>());
      new_senders.push_back(row[2].as<std::int64_t>());
    }
    tx.exec_params(lock_members_sql, pg_int_array(new_rooms));
    for (const auto& row :
         tx.exec_params(unread_sql, pg_int_array(new_ids), pg_int_array(new_rooms), pg_int_array(new_senders))) {
      out.unread.push_back({row[0].as<std::int64_t>(), row[1].as<std::int64_t>(), row[2].as<std::int64_t>(),
                            row[3].as<std::int64_t>(), row[4].as<std::int64_t>()});
    }
  }
  tx.commit();
  return out;
}

batch_outcome persistence_handler::handle(std::span<const kafka::record> batch) {
  batch_outcome outcome;
  cache_updates_.clear();

  std::vector<message_record> records;
  records.reserve(batch.size());
  for (std::size_t i = 0; i < batch.size(); ++i) {
    message_record m;
    if (auto failure =
            decode_message(i, batch[i].partition(), batch[i].offset(), batch[i].value(), max_content_chars_, m)) {
      outcome.failures.push_back(std::move(*failure));
      continue;
    }
    records.push_back(std::move(m));
  }
  const std::size_t decode_failures = outcome.failures.size();
  const std::size_t repeated_in_batch = keep_first_of_each_key(records);
  if (records.empty()) return outcome;

  std::string error;
  pqxx::connection* conn = pg_.get(error);
  if (conn == nullptr) return batch_outcome::infra("postgres: " + error);

  auto unknown = [&](const stored& s, const std::vector<const message_record*>& rows) {
    for (const std::size_t i : s.unknown_room) {
      outcome.failures.push_back({rows[i]->index, failure_kind::poison, "unknown_room",
                                  "room " + std::to_string(rows[i]->message.room_id) + " does not exist"});
    }
    for (const std::size_t i : s.unknown_sender) {
      outcome.failures.push_back({rows[i]->index, failure_kind::poison, "unknown_sender",
                                  "sender " + std::to_string(rows[i]->message.sender_id) + " does not exist"});
    }
  };

  std::vector<const message_record*> rows;
  rows.reserve(records.size());
  for (const auto& r : records) rows.push_back(&r);
  std::size_t inserted = 0;
  try {
    const stored s = store(*conn, rows);
    unknown(s, rows);
    inserted = s.inserted;
    cache_updates_ = s.unread;
  } catch (const std::exception& e) {
    if (classify_pg_error(e) == pg_failure::infrastructure) {
      pg_.reset();
      return batch_outcome::infra("postgres: " + first_line(e.what()));
    }
    // Refused because of some record's data: find which, one transaction per record.
    log::warn("batch refused by PostgreSQL; storing its records one by one", {{"error", first_line(e.what())},
                                                                              {"sqlstate", sqlstate_of(e)},
                                                                              {"partition", rows.front()->partition},
                                                                              {"offset", rows.front()->offset}});
    for (const auto* row : rows) {
      try {
        const std::vector<const message_record*> one{row};
        const stored s = store(*conn, one);
        unknown(s, one);
        inserted += s.inserted;
        cache_updates_.insert(cache_updates_.end(), s.unread.begin(), s.unread.end());
      } catch (const std::exception& e1) {
        if (classify_pg_error(e1) == pg_failure::infrastructure) {
          pg_.reset();
          cache_updates_.clear();
          return batch_outcome::infra("postgres: " + first_line(e1.what()));
        }
        outcome.failures.push_back({row->index, failure_kind::poison, "sql_" + sqlstate_of(e1), first_line(e1.what())});
      }
    }
  }
  const std::size_t refused = outcome.failures.size() - decode_failures;
  stats_.inserted.fetch_add(inserted, std::memory_order_relaxed);
  stats_.duplicates.fetch_add(repeated_in_batch + (records.size() - refused - inserted), std::memory_order_relaxed);
  return outcome;
}

void persistence_handler::after_commit() {
  if (!cache_updates_.empty()) cache_.write(redis_, cache_updates_);
  cache_updates_.clear();
}

void persistence_handler::on_idle() { cache_.flush_pending(redis_); }

}  // namespace chat::chatd::pipeline
