#pragma once
// Accounts repository: users by email or id, sign-up insert, password-hash upgrade.
// Runs on db_pool workers only. Database failures come back as store::error (the REST
// layer maps them, api/errors.hpp). Emails are passed in their normalized (lower-case) form.
#include "store/error.hpp"
#include "store/session.hpp"

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

result<std::optional<user_record>> find_user_by_email(session& db, const std::string& email);
result<std::optional<user_record>> find_user_by_id(session& db, std::int64_t user_id);

result<bool> email_registered(session& db, const std::string& email);

// INSERT … ON CONFLICT (email) DO NOTHING: nullopt when the email is already registered
// (also when a concurrent sign-up won the race).
result<std::optional<user_record>> insert_user(session& db, const std::string& email, const std::string& password_hash,
                                               const std::string& nickname);

result<void> update_password_hash(session& db, std::int64_t user_id, const std::string& password_hash);

}  // namespace chat::store
