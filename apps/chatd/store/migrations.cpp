#include "store/migrations.hpp"

#include "store/connection.hpp"
#include "store/sql_util.hpp"

#include <chat/proto/ids.hpp>

#include <pqxx/pqxx>

#include <algorithm>
#include <set>
#include <stdexcept>

namespace chat::store {

namespace {
// Arbitrary constant: the advisory lock that serialises migrations across nodes.
constexpr long long migration_lock_key = 0x63686174'6d696772LL;  // "chatmigr"

pqxx::connection& connected(connection& db) {
  std::string error;
  session* s = db.get(error);
  if (s == nullptr) throw std::runtime_error(error);
  return s->native<pqxx::connection>();
}

}  // namespace

migrate_result apply_migrations(const std::string& database_url, int connect_timeout_s) {
  connection db(database_url, connect_timeout_s);
  migrate_result result;
  pqxx::work tx(connected(db));
  tx.exec_params("SELECT pg_advisory_xact_lock($1)", migration_lock_key);
  tx.exec(
      "CREATE TABLE IF NOT EXISTS schema_migrations ("
      " version INTEGER PRIMARY KEY,"
      " name TEXT NOT NULL,"
      " applied_at TIMESTAMPTZ NOT NULL DEFAULT now())");
  std::set<int> done;
  for (const auto& row : tx.exec("SELECT version FROM schema_migrations")) done.insert(row[0].as<int>());
  for (const auto& m : embedded_migrations()) {
    if (done.count(m.version) == 0) {
      tx.exec(m.sql);
      tx.exec_params("INSERT INTO schema_migrations (version, name) VALUES ($1, $2)", m.version, std::string(m.name));
      result.applied.push_back(m.version);
      done.insert(m.version);
    }
  }
  tx.commit();
  result.current_version = done.empty() ? 0 : *done.rbegin();
  return result;
}

std::vector<std::int64_t> stored_log_ends(const std::string& database_url, int connect_timeout_s, int partitions) {
  connection db(database_url, connect_timeout_s);
  std::vector<std::int64_t> ends(static_cast<std::size_t>(std::max(partitions, 0)), 0);
  pqxx::read_transaction tx(connected(db));
  for (int p = 0; p < partitions; ++p) {
    const auto first = proto::make_message_id(p, 0);
    const auto last = proto::make_message_id(p, proto::max_message_id_offset);
    // Room events take their ids from Kafka positions like messages do.
    const auto row = tx.exec_params1(
        "SELECT GREATEST((SELECT max(id) FROM messages WHERE id BETWEEN $1 AND $2), "
        "(SELECT max(id) FROM room_events WHERE id BETWEEN $1 AND $2))",
        first, last);
    if (!row[0].is_null()) ends[static_cast<std::size_t>(p)] = proto::message_id_offset(row[0].as<std::int64_t>()) + 1;
  }
  return ends;
}

}  // namespace chat::store
