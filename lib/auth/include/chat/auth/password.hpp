#pragma once
// Password storage with Argon2id (docs/rest.md), through libsodium's crypto_pwhash_str. The stored
// string is self-describing ("$argon2id$v=19$m=…,t=…,p=1$salt$hash"), so parameters can be
// raised later: password_needs_rehash() tells the login path to re-hash on success.
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace chat::auth {

struct password_cost {
  unsigned long long opslimit;
  std::size_t memlimit;  // bytes

  // libsodium's interactive preset (2 passes, 64 MiB): for production logins.
  static password_cost interactive() noexcept;
  // The smallest cost libsodium allows: fast, for tests and development only.
  static password_cost minimum() noexcept;
};

// A crypto_pwhash_str string using Argon2id with a random salt, or nullopt when hashing
// failed (memory could not be allocated, cost outside libsodium's limits, libsodium could not
// initialise). CPU- and memory-heavy by design: keep it off I/O threads.
std::optional<std::string> hash_password(std::string_view password, password_cost cost);

// True when `password` matches `stored_hash` (any Argon2 string libsodium verifies). False for
// a wrong password and for anything that is not a well-formed hash. Same cost as hashing.
bool verify_password(std::string_view stored_hash, std::string_view password);

// True when `stored_hash` is not an Argon2id string with exactly `cost` (older parameters,
// another algorithm, or not a hash at all).
bool password_needs_rehash(std::string_view stored_hash, password_cost cost);

}  // namespace chat::auth
