#include "store/people.hpp"

#include "store/sql_util.hpp"

#include <pqxx/pqxx>

namespace chat::store {

// A prefix p as the byte-wise range [p, p || 256 x U+10FFFF] of the text_pattern_ops
// indexes: in UTF-8 byte order (code point order) every string that starts with p lies in
// it, and every string in it starts with p unless it continues p with U+10FFFF more than 256
// times (nicknames have at most 40 characters, emails at most 254 bytes). No LIKE pattern,
// so '%', '_' and '\' need no escaping, and the bounds are expressions of $1 that a generic
// plan can use as index conditions too. Each branch reads its index in order (USING ~<~)
// and stops after $3 rows, so a short prefix matching many users costs at most 2 x $3 rows;
// UNION keeps a user found both ways once.
const char* const search_users_sql = R"sql(SELECT u.id, u.nickname, u.status_message, u.avatar_url,
       floor(extract(epoch FROM u.last_seen_at) * 1000)::bigint
FROM ((SELECT id, nickname, status_message, avatar_url, last_seen_at FROM users
       WHERE lower(nickname) ~>=~ lower($1) AND lower(nickname) ~<=~ (lower($1) || repeat(chr(1114111), 256))
         AND id <> $2
       ORDER BY lower(nickname) USING ~<~ LIMIT $3)
      UNION
      (SELECT id, nickname, status_message, avatar_url, last_seen_at FROM users
       WHERE email ~>=~ lower($1) AND email ~<=~ (lower($1) || repeat(chr(1114111), 256))
         AND id <> $2
       ORDER BY email USING ~<~ LIMIT $3)) u
ORDER BY lower(u.nickname), u.id
LIMIT $3)sql";

person person_of(const user_record& user) {
  return person{user.id, user.nickname, user.status_message, user.avatar_url, user.last_seen_at_ms};
}

result<std::vector<person>> search_users(session& db, std::int64_t caller, const std::string& prefix, int limit) {
  return detail::guarded([&] {
    pqxx::nontransaction tx(db.native<pqxx::connection>());
    const pqxx::result r = tx.exec_params(search_users_sql, prefix, caller, limit);
    std::vector<person> out;
    out.reserve(r.size());
    for (const auto& row : r) {
      person p;
      p.id = row[0].as<std::int64_t>();
      p.nickname = row[1].as<std::string>();
      p.status_message = detail::optional_text(row[2]);
      p.avatar_url = detail::optional_text(row[3]);
      p.last_seen_at_ms = detail::optional_int64(row[4]);
      out.push_back(std::move(p));
    }
    return out;
  });
}

result<void> record_last_seen(session& db, const std::vector<std::pair<std::int64_t, std::int64_t>>& seen) {
  if (seen.empty()) return {};
  std::vector<std::int64_t> ids;
  std::vector<std::int64_t> ms;
  ids.reserve(seen.size());
  ms.reserve(seen.size());
  for (const auto& [id, at] : seen) {
    ids.push_back(id);
    ms.push_back(at);
  }
  return detail::guarded([&] {
    pqxx::nontransaction tx(db.native<pqxx::connection>());  // one statement: autocommit
    tx.exec_params(
        "UPDATE users u SET last_seen_at = to_timestamp(v.ms / 1000.0) "
        "FROM unnest($1::bigint[], $2::bigint[]) AS v(id, ms) "
        "WHERE u.id = v.id AND (u.last_seen_at IS NULL OR u.last_seen_at < to_timestamp(v.ms / 1000.0))",
        detail::bigint_array(ids), detail::bigint_array(ms));
  });
}

}  // namespace chat::store
