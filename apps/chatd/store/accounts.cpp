#include "store/accounts.hpp"

#include "store/sql_util.hpp"

namespace chat::store {
namespace {

constexpr const char* user_columns = "id, email, nickname, password_hash, " CHAT_SQL_MS("created_at");

user_record to_user(const pqxx::row& row) {
  user_record u;
  u.id = row[0].as<std::int64_t>();
  u.email = row[1].as<std::string>();
  u.nickname = row[2].as<std::string>();
  u.password_hash = row[3].as<std::string>();
  u.created_at_ms = row[4].as<std::int64_t>();
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
std::optional<user_record> find_user_by_email(pqxx::connection& conn, const std::string& email) {
  static const std::string sql = std::string("SELECT ") + user_columns + " FROM users WHERE email = lower($1)";
  pqxx::nontransaction tx(conn);
  return first_user(tx.exec_params(sql, email));
}

std::optional<user_record> find_user_by_id(pqxx::connection& conn, std::int64_t user_id) {
  static const std::string sql = std::string("SELECT ") + user_columns + " FROM users WHERE id = $1";
  pqxx::nontransaction tx(conn);
  return first_user(tx.exec_params(sql, user_id));
}

bool email_registered(pqxx::connection& conn, const std::string& email) {
  pqxx::nontransaction tx(conn);
  return !tx.exec_params("SELECT 1 FROM users WHERE email = lower($1)", email).empty();
}

std::optional<user_record> insert_user(pqxx::connection& conn, const std::string& email,
                                       const std::string& password_hash, const std::string& nickname) {
  static const std::string sql = std::string(
                                     "INSERT INTO users (email, password_hash, nickname) VALUES (lower($1), $2, $3) "
                                     "ON CONFLICT (email) DO NOTHING RETURNING ") +
                                 user_columns;
  pqxx::nontransaction tx(conn);  // one statement: autocommit
  return first_user(tx.exec_params(sql, email, password_hash, nickname));
}

void update_password_hash(pqxx::connection& conn, std::int64_t user_id, const std::string& password_hash) {
  pqxx::nontransaction tx(conn);
  tx.exec_params("UPDATE users SET password_hash = $2 WHERE id = $1", user_id, password_hash);
}

}  // namespace chat::store
