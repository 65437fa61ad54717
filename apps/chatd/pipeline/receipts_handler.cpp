#include "pipeline/receipts_handler.hpp"

#include "pipeline/records.hpp"

#include <algorithm>
#include <map>

namespace chat::chatd::pipeline {

namespace {

constexpr const char* lock_sql =
    "SELECT m.room_id FROM chat_room_members m "
    "JOIN unnest($1::bigint[], $2::bigint[]) AS r(room_id, user_id) "
    "  ON m.room_id = r.room_id AND m.user_id = r.user_id "
    "ORDER BY m.room_id, m.user_id FOR UPDATE OF m";

// SET expressions see the row as it was before this UPDATE, so GREATEST(...) is the new
// last-read in both places.
const std::string update_sql =
    std::string(
        "UPDATE chat_room_members m "
        "SET last_read_message_id = GREATEST(m.last_read_message_id, r.last_read), "
        "    unread_count = (SELECT count(*) FROM messages msg "
        "                    WHERE msg.room_id = m.room_id AND msg.sender_id <> m.user_id "
        "                      AND msg.id > GREATEST(m.last_read_message_id, r.last_read))::int "
        "FROM unnest($1::bigint[], $2::bigint[], $3::bigint[]) AS r(room_id, user_id, last_read) "
        "WHERE m.room_id = r.room_id AND m.user_id = r.user_id "
        "RETURNING m.room_id, m.user_id, m.unread_count, m.last_read_message_id, ") +
    unread_version_sql;

std::string first_line(const char* what) {
  std::string s(what);
  if (const auto nl = s.find('\n'); nl != std::string::npos) s.resize(nl);
  return s;
}

}  // namespace

receipts_handler::receipts_handler(const config& cfg)
    : pg_(cfg.database_url, "chatd-receipts-" + cfg.node_id, cfg.dependency_timeout),
      redis_(redis::parse_url(cfg.redis_url).value_or(redis::endpoint{}), cfg.dependency_timeout) {}

batch_outcome receipts_handler::handle(std::span<const kafka::record> batch) {
  batch_outcome outcome;
  cache_updates_.clear();
  std::vector<receipt_record> receipts;
  receipts.reserve(batch.size());
  for (std::size_t i = 0; i < batch.size(); ++i) {
    receipt_record r;
    if (auto failure = decode_receipt(i, batch[i].value(), r)) {
      outcome.failures.push_back(std::move(*failure));
      continue;
    }
    receipts.push_back(r);
  }
  const auto updates = merge_receipts(receipts);
  if (updates.empty()) return outcome;

  std::string error;
  pqxx::connection* conn = pg_.get(error);
  if (conn == nullptr) return batch_outcome::infra("postgres: " + error);

  using changes = std::map<std::pair<std::int64_t, std::int64_t>, unread_entry>;
  // One transaction for `subset`; throws what libpqxx throws.
  auto apply = [&](const std::vector<const receipt_update*>& subset, changes& changed) {
    std::vector<std::int64_t> rooms, users, last_reads;
    for (const auto* u : subset) {
      rooms.push_back(u->room_id);
      users.push_back(u->user_id);
      last_reads.push_back(u->last_read_message_id);
    }
    pqxx::work tx(*conn);
    tx.exec_params(lock_sql, pg_int_array(rooms), pg_int_array(users));
    for (const auto& row :
         tx.exec_params(update_sql, pg_int_array(rooms), pg_int_array(users), pg_int_array(last_reads))) {
      unread_entry e{row[0].as<std::int64_t>(), row[1].as<std::int64_t>(), row[2].as<std::int64_t>(),
                     row[3].as<std::int64_t>(), row[4].as<std::int64_t>()};
      changed[{e.room_id, e.user_id}] = e;
    }
    tx.commit();
  };

  std::vector<const receipt_update*> all;
  for (const auto& u : updates) all.push_back(&u);
  changes changed;
  std::vector<const receipt_update*> refused;
  try {
    apply(all, changed);
  } catch (const std::exception& e) {
    if (classify_pg_error(e) == pg_failure::infrastructure) {
      pg_.reset();
      return batch_outcome::infra("postgres: " + first_line(e.what()));
    }
    // Refused because of some receipt's values: find which, one transaction each.
    changed.clear();
    for (const auto* u : all) {
      try {
        apply({u}, changed);
      } catch (const std::exception& e1) {
        if (classify_pg_error(e1) == pg_failure::infrastructure) {
          pg_.reset();
          return batch_outcome::infra("postgres: " + first_line(e1.what()));
        }
        for (const std::size_t i : u->indexes) {
          outcome.failures.push_back({i, failure_kind::poison, "sql_error", first_line(e1.what())});
        }
        refused.push_back(u);
      }
    }
  }

  for (const auto& u : updates) {
    const auto it = changed.find({u.room_id, u.user_id});
    if (it != changed.end()) {
      cache_updates_.push_back(it->second);
      continue;
    }
    if (std::find(refused.begin(), refused.end(), &u) != refused.end()) continue;
    for (const std::size_t i : u.indexes) {
      outcome.failures.push_back({i, failure_kind::poison, "not_a_member",
                                  "user " + std::to_string(u.user_id) + " is not a member of room " +
                                      std::to_string(u.room_id) + " (or the room does not exist)"});
    }
  }
  return outcome;
}

void receipts_handler::after_commit() {
  if (!cache_updates_.empty()) cache_.write(redis_, cache_updates_);
  cache_updates_.clear();
}

void receipts_handler::on_idle() { cache_.flush_pending(redis_); }

}  // namespace chat::chatd::pipeline
