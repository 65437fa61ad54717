#pragma once
// People repository (SPEC §15, docs/rest.md "Profiles", "Search"): the user search and
// lastSeenAt. Runs on db_pool workers only; database failures come back as store::error.
#include "store/accounts.hpp"
#include "store/error.hpp"
#include "store/session.hpp"

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace chat::store {

// What others see of a user (no email, no hash); online is not the store's (Redis).
struct person {
  std::int64_t id = 0;
  std::string nickname;
  std::optional<std::string> status_message;
  std::optional<std::string> avatar_url;
  std::optional<std::int64_t> last_seen_at_ms;
};

person person_of(const user_record& user);

// Users other than `caller` whose lower(nickname) or email starts with lower(prefix) (a
// byte-wise range on the indexes users_nickname_prefix_idx / users_email_prefix_idx, so '%',
// '_' and '\' are plain characters), at most `limit`, ordered by nickname then id.
result<std::vector<person>> search_users(session& db, std::int64_t caller, const std::string& prefix, int limit);

// The SQL of search_users, exactly as sent ($1 prefix, $2 caller, $3 limit): EXPLAINed by
// tests/integration/test_people.py.
extern const char* const search_users_sql;

// lastSeenAt of each (user, unix ms): set when later than what is stored (never moves
// backwards); unknown users are skipped. One statement.
result<void> record_last_seen(session& db, const std::vector<std::pair<std::int64_t, std::int64_t>>& seen);

}  // namespace chat::store
