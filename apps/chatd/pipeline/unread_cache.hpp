#pragma once
// Writes the Redis unread cache `unread:{room}:{user}` after the persistence and
// read-receipt consumers changed chat_room_members (value format: store/read_state.hpp,
// {"unreadCount":N,"lastReadMessageId":M}).
//
// Two consumers (and nodes) write the same keys and their writes can reach Redis in the
// other order than their transactions committed. Each write therefore carries a version
// taken from PostgreSQL while the member row was locked (clock_timestamp() in µs, so a
// later transaction on that row has a larger one), kept in `unread-version:{room}:{user}`;
// a Lua script writes value and version only when the version is newer. The REST API
// only fills a missing key (SET NX), so it never overwrites a newer value either.
//
// When Redis cannot be reached the keys that should have been written are remembered and
// deleted as soon as Redis answers again (a miss makes the API read PostgreSQL), so the
// cache does not keep showing an old count. Values expire after `ttl` as a last resort.
#include "pipeline/redis_script.hpp"
#include "redis/redis_client.hpp"

#include <chrono>
#include <cstdint>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace chat::chatd::pipeline {

struct unread_entry {
  std::int64_t room_id = 0;
  std::int64_t user_id = 0;
  std::int64_t unread_count = 0;
  std::int64_t last_read_message_id = 0;
  std::int64_t version = 0;  // see above
};

// "unread-version:{room}:{user}"
std::string unread_version_key(std::int64_t room_id, std::int64_t user_id);

// SQL expression of the version, for RETURNING clauses of statements that hold the row.
inline constexpr const char* unread_version_sql = "(extract(epoch FROM clock_timestamp()) * 1000000)::bigint";

class unread_cache {
 public:
  // Cache lifetime of a written value.
  static constexpr std::chrono::seconds default_ttl{600};
  // Most keys remembered for deletion while Redis is down; beyond it the TTL bounds them.
  static constexpr std::size_t default_max_pending = 100000;

  explicit unread_cache(std::chrono::seconds ttl = default_ttl, std::size_t max_pending = default_max_pending);

  // Writes the entries (one round trip), after deleting keys left over from a failed
  // write. Best effort: returns false when Redis could not be reached (the keys are
  // remembered). One thread only.
  bool write(redis::client& redis, const std::vector<unread_entry>& entries);

  // Retries the deletion of remembered keys (call when idle). No round trip when none.
  void flush_pending(redis::client& redis);

  std::size_t pending() const noexcept { return pending_.size(); }

 private:
  bool delete_pending(redis::client& redis);
  void remember(const std::vector<unread_entry>& entries);

  std::chrono::seconds ttl_;
  std::size_t max_pending_;
  redis_script cas_;
  std::set<std::pair<std::int64_t, std::int64_t>> pending_;
  std::chrono::steady_clock::time_point last_attempt_{};
  bool failed_recently_ = false;
};

}  // namespace chat::chatd::pipeline
