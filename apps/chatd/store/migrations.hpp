#pragma once
// Schema migrations from sql/NNNN_name.sql, embedded into the binary at build time and
// applied in order inside one transaction under an advisory lock, so that several nodes
// starting together apply each migration once. Applied versions are recorded in
// schema_migrations; applying twice changes nothing.
#include <cstdint>
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

// Start-up code only: connects to `database_url` for this call and throws std::exception
// (the database's message) when it cannot connect or a migration fails.
migrate_result apply_migrations(const std::string& database_url, int connect_timeout_s);

// For each partition 0..partitions-1 of chat.messages: the offset after the newest message
// stored from it (0 when none), read from the ids (docs/events.md: (partition << 40) | offset)
// through the primary key, one index probe per partition. Start-up code only; connects and
// throws as apply_migrations.
std::vector<std::int64_t> stored_log_ends(const std::string& database_url, int connect_timeout_s, int partitions);

}  // namespace chat::store
