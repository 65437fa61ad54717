#include "store/migrations.hpp"

#include <set>

namespace chat::store {

namespace {
// Arbitrary constant: the advisory lock that serialises migrations across nodes.
constexpr long long migration_lock_key = 0x63686174'6d696772LL;  // "chatmigr"
}  // namespace

migrate_result apply_migrations(pqxx::connection& conn) {
  migrate_result result;
  pqxx::work tx(conn);
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

}  // namespace chat::store
