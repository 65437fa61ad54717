#pragma once
// Set-up before any session opens: sign up the users and create the group rooms over REST
// (parallel REST clients), or reuse a --fixture (checked against the server, tokens renewed by
// login when refused), or nothing in generic mode. A run that created its users writes them
// to --fixture FILE when one was named.
#include "accounting.hpp"
#include "run_counters.hpp"
#include "runner.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace chatload {

struct user_account {
  std::int64_t id = 0;
  std::string email;  // empty in generic mode without a fixture
  std::string token;
};

struct setup_result {
  std::vector<user_account> accounts;  // [user index]
  std::vector<std::int64_t> room_ids;  // [room index]; generic without fixture: the index
  std::string source;                  // "created", "fixture" or "none"
  double seconds = 0;
};

// Throws std::runtime_error when set-up fails (REST errors, a fixture of another server, a
// fixture that cannot be written). A refreshed fixture that cannot be rewritten is counted in
// `errors` ("fixture_write: ...") and the run goes on. Prints one line on stderr unless
// options.progress is false. `nonce` makes the names of created users and rooms unique.
setup_result set_up(const run_options& options, const plan& p, std::uint64_t nonce, error_counter& errors);

}  // namespace chatload
