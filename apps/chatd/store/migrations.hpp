#pragma once
// Schema migrations from sql/NNNN_name.sql, embedded into the binary at build time and
// applied in order inside one transaction under an advisory lock, so that several nodes
// starting together apply each migration once. Applied versions are recorded in
// schema_migrations; applying twice changes nothing.
#include <pqxx/pqxx>

#include <string>
#include <vector>

namespace chat::store {

struct migration {
  int version;
  const char* name;
  const char* sql;
};

// The embedded migrations, ordered by version.
const std::vector<migration>& embedded_migrations();

struct migrate_result {
  std::vector<int> applied;  // versions applied by this call
  int current_version = 0;
};

// Throws pqxx exceptions on database errors (start-up code only).
migrate_result apply_migrations(pqxx::connection& conn);

}  // namespace chat::store
