#pragma once
// Accounts repository: users by email or id, sign-up insert, password-hash upgrade.
// Runs on db_pool workers only. Database failures come back as store::error (the REST
// layer maps them, api/errors.hpp). Emails are passed in their normalized (lower-case) form.
#include "store/error.hpp"
#include "store/session.hpp"

#include <chat/proto/people.hpp>

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
  // Profile (sql/0006_people.sql): null when not set / never seen.
  std::optional<std::string> status_message;
  std::optional<std::string> avatar_url;
  std::optional<std::int64_t> last_seen_at_ms;
};

result<std::optional<user_record>> find_user_by_email(session& db, const std::string& email);
result<std::optional<user_record>> find_user_by_id(session& db, std::int64_t user_id);

result<bool> email_registered(session& db, const std::string& email);

// INSERT … ON CONFLICT (email) DO NOTHING: nullopt when the email is already registered
// (also when a concurrent sign-up won the race).
result<std::optional<user_record>> insert_user(session& db, const std::string& email, const std::string& password_hash,
                                               const std::string& nickname);

// PATCH /api/users/me: the fields `update` sets (statusMessage/avatarUrl "" clear them). The
// row after the change; nullopt when the user does not exist.
result<std::optional<user_record>> update_profile(session& db, std::int64_t user_id,
                                                  const proto::profile_update& update);

result<void> update_password_hash(session& db, std::int64_t user_id, const std::string& password_hash);

}  // namespace chat::store
