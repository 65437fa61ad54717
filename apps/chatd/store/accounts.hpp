#pragma once
// Accounts repository: users by email or id, sign-up insert, password-hash upgrade.
// Runs on db_pool workers only. Throws pqxx exceptions on database errors; the REST layer
// maps them (api/errors.hpp). Emails are passed in their normalized (lower-case) form.
#include <pqxx/pqxx>

#include <cstdint>
#include <optional>
#include <string>

namespace chat::store {

struct user_record {
  std::int64_t id = 0;
  std::string email;
  std::string nickname;
  std::string password_hash;  // never leaves the server
  std::int64_t created_at_ms = 0;
};

std::optional<user_record> find_user_by_email(pqxx::connection& conn, const std::string& email);
std::optional<user_record> find_user_by_id(pqxx::connection& conn, std::int64_t user_id);

bool email_registered(pqxx::connection& conn, const std::string& email);

// INSERT … ON CONFLICT (email) DO NOTHING: nullopt when the email is already registered
// (also when a concurrent sign-up won the race).
std::optional<user_record> insert_user(pqxx::connection& conn, const std::string& email,
                                       const std::string& password_hash, const std::string& nickname);

void update_password_hash(pqxx::connection& conn, std::int64_t user_id, const std::string& password_hash);

}  // namespace chat::store
