#include "store/accounts.hpp"

#include "store/sql_util.hpp"

#include <pqxx/pqxx>

namespace chat::store {
namespace {

constexpr const char* user_columns = "id, email, nickname, password_hash, " CHAT_SQL_MS(
    "created_at") ", status_message, avatar_url, " CHAT_SQL_MS("last_seen_at");

user_record to_user(const pqxx::row& row) {
  user_record u;
  u.id = row[0].as<std::int64_t>();
  u.email = row[1].as<std::string>();
  u.nickname = row[2].as<std::string>();
  u.password_hash = row[3].as<std::string>();
  u.created_at_ms = row[4].as<std::int64_t>();
  u.status_message = detail::optional_text(row[5]);
  u.avatar_url = detail::optional_text(row[6]);
  u.last_seen_at_ms = detail::optional_int64(row[7]);
  return u;
}

std::optional<user_record> first_user(const pqxx::result& r) {
  if (r.empty()) return std::nullopt;
  return to_user(r[0]);
}

}  // namespace

// Emails are stored as lower(email) (the users_email_lower CHECK). The API lowers ASCII
// letters itself; lower($1) here does the rest (Ä -> ä) with the database's own rules, so
// lookups, sign-up and the CHECK always agree and the UNIQUE index is still used.
result<std::optional<user_record>> find_user_by_email(session& db, const std::string& email) {
  static const std::string sql = std::string("SELECT ") + user_columns + " FROM users WHERE email = lower($1)";
  return detail::guarded([&] {
    pqxx::nontransaction tx(db.native<pqxx::connection>());
    return first_user(tx.exec_params(sql, email));
  });
}

result<std::optional<user_record>> find_user_by_id(session& db, std::int64_t user_id) {
  static const std::string sql = std::string("SELECT ") + user_columns + " FROM users WHERE id = $1";
  return detail::guarded([&] {
    pqxx::nontransaction tx(db.native<pqxx::connection>());
    return first_user(tx.exec_params(sql, user_id));
  });
}

result<bool> email_registered(session& db, const std::string& email) {
  return detail::guarded([&] {
    pqxx::nontransaction tx(db.native<pqxx::connection>());
    return !tx.exec_params("SELECT 1 FROM users WHERE email = lower($1)", email).empty();
  });
}

result<std::optional<user_record>> insert_user(session& db, const std::string& email, const std::string& password_hash,
                                               const std::string& nickname) {
  static const std::string sql = std::string(
                                     "INSERT INTO users (email, password_hash, nickname) VALUES (lower($1), $2, $3) "
                                     "ON CONFLICT (email) DO NOTHING RETURNING ") +
                                 user_columns;
  return detail::guarded([&] {
    pqxx::nontransaction tx(db.native<pqxx::connection>());  // one statement: autocommit
    return first_user(tx.exec_params(sql, email, password_hash, nickname));
  });
}

result<std::optional<user_record>> update_profile(session& db, std::int64_t user_id,
                                                  const proto::profile_update& update) {
  // Each field: unchanged unless given; statusMessage and avatarUrl "" store NULL.
  static const std::string sql = std::string(
                                     "UPDATE users SET nickname = COALESCE($2, nickname), "
                                     "status_message = CASE WHEN $3 THEN NULLIF($4, '') ELSE status_message END, "
                                     "avatar_url = CASE WHEN $5 THEN NULLIF($6, '') ELSE avatar_url END "
                                     "WHERE id = $1 RETURNING ") +
                                 user_columns;
  return detail::guarded([&] {
    pqxx::nontransaction tx(db.native<pqxx::connection>());
    return first_user(tx.exec_params(sql, user_id, update.nickname, update.status_message.has_value(),
                                     update.status_message.value_or(""), update.avatar_url.has_value(),
                                     update.avatar_url.value_or("")));
  });
}

result<void> update_password_hash(session& db, std::int64_t user_id, const std::string& password_hash) {
  return detail::guarded([&] {
    pqxx::nontransaction tx(db.native<pqxx::connection>());
    tx.exec_params("UPDATE users SET password_hash = $2 WHERE id = $1", user_id, password_hash);
  });
}

}  // namespace chat::store
