#pragma once
// --fixture FILE: the users and rooms a run created, so that later runs of the same scenario
// reuse them instead of signing up and creating rooms again. Schema "chatload-fixture/1"
// (docs/chatload.md). Room r's members are the plan's users (r·M + j) % N, as when created.
#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace chatload {

struct fixture_account {
  std::string email;
  std::int64_t user_id = 0;
  std::string token;  // as of the fixture's writing; renewed by login when refused
};

struct fixture {
  std::string url;  // REST base it was created on (informational)
  std::uint32_t users = 0;
  std::uint32_t rooms = 0;
  std::uint32_t members = 0;
  std::string password;
  std::vector<fixture_account> accounts;  // [user index]
  std::vector<std::int64_t> room_ids;     // [room index]
};

nlohmann::json to_json(const fixture& f);
// Shape and consistency (counts match the arrays, ids positive, emails present).
std::optional<fixture> parse_fixture(const nlohmann::json& j, std::string& why);
// Whether the fixture fits a scenario of users × rooms × members; a sentence if not.
std::optional<std::string> mismatch(const fixture& f, std::uint32_t users, std::uint32_t rooms, std::uint32_t members);

// Reads and parses a file; nullopt with `why` when unreadable or malformed.
std::optional<fixture> load_fixture(const std::string& path, std::string& why);

// The JSON document in a file; nullopt with `why` (naming the file) when it cannot be
// read or parsed. Shared by the fixture and `chatload compare`.
std::optional<nlohmann::json> read_json_file(const std::string& path, std::string& why);
// Writes atomically (temporary file + rename); false with `why` on failure.
bool save_fixture(const std::string& path, const fixture& f, std::string& why);

}  // namespace chatload
