#include <chat/auth/password.hpp>
#include "sodium.hpp"

#include <sodium.h>

namespace chat::auth {
namespace {

// sodium_init() once per process; the function-local static makes the first call thread-safe.
constexpr std::string_view argon2id_prefix = crypto_pwhash_argon2id_STRPREFIX;  // "$argon2id$"

// crypto_pwhash_str_* read a NUL-terminated string of at most crypto_pwhash_STRBYTES bytes.
bool copy_hash(std::string_view stored_hash, char (&buffer)[crypto_pwhash_STRBYTES]) noexcept {
  if (stored_hash.size() >= crypto_pwhash_STRBYTES || stored_hash.find('\0') != std::string_view::npos) {
    return false;
  }
  stored_hash.copy(buffer, stored_hash.size());
  buffer[stored_hash.size()] = '\0';
  return true;
}

}  // namespace

password_cost password_cost::interactive() noexcept {
  return {crypto_pwhash_OPSLIMIT_INTERACTIVE, crypto_pwhash_MEMLIMIT_INTERACTIVE};
}

password_cost password_cost::minimum() noexcept { return {crypto_pwhash_OPSLIMIT_MIN, crypto_pwhash_MEMLIMIT_MIN}; }

std::optional<std::string> hash_password(std::string_view password, password_cost cost) {
  if (!detail::sodium_ready()) return std::nullopt;
  if (password.size() > crypto_pwhash_PASSWD_MAX) return std::nullopt;
  char buffer[crypto_pwhash_STRBYTES];
  if (crypto_pwhash_str_alg(buffer, password.empty() ? "" : password.data(), password.size(), cost.opslimit,
                            cost.memlimit, crypto_pwhash_ALG_ARGON2ID13) != 0) {
    return std::nullopt;
  }
  std::string hash(buffer);
  sodium_memzero(buffer, sizeof buffer);
  if (hash.compare(0, argon2id_prefix.size(), argon2id_prefix) != 0) return std::nullopt;
  return hash;
}

bool verify_password(std::string_view stored_hash, std::string_view password) {
  if (!detail::sodium_ready()) return false;
  char buffer[crypto_pwhash_STRBYTES];
  if (!copy_hash(stored_hash, buffer)) return false;
  return crypto_pwhash_str_verify(buffer, password.empty() ? "" : password.data(), password.size()) == 0;
}

bool password_needs_rehash(std::string_view stored_hash, password_cost cost) {
  if (!detail::sodium_ready()) return true;
  char buffer[crypto_pwhash_STRBYTES];
  if (!copy_hash(stored_hash, buffer)) return true;
  // The argon2id variant answers -1 for strings of any other algorithm.
  return crypto_pwhash_argon2id_str_needs_rehash(buffer, cost.opslimit, cost.memlimit) != 0;
}

}  // namespace chat::auth
