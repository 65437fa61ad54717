#include "fixture.hpp"

#include <cstdio>
#include <fstream>
#include <sstream>

namespace chatload {

namespace {
constexpr const char* schema = "chatload-fixture/1";
}

nlohmann::json to_json(const fixture& f) {
  nlohmann::json j;
  j["schema"] = schema;
  j["url"] = f.url;
  j["users"] = f.users;
  j["rooms"] = f.rooms;
  j["members"] = f.members;
  j["password"] = f.password;
  j["accounts"] = nlohmann::json::array();
  for (const auto& a : f.accounts)
    j["accounts"].push_back({{"email", a.email}, {"user_id", a.user_id}, {"token", a.token}});
  j["room_ids"] = f.room_ids;
  return j;
}

std::optional<fixture> parse_fixture(const nlohmann::json& j, std::string& why) {
  if (!j.is_object()) {
    why = "not a JSON object";
    return std::nullopt;
  }
  if (!j.contains("schema") || j["schema"] != schema) {
    why = std::string("schema is not \"") + schema + "\"";
    return std::nullopt;
  }
  auto count = [&](const char* k, std::uint32_t& out) {
    if (!j.contains(k) || !j[k].is_number_unsigned() || j[k].get<std::uint64_t>() == 0 ||
        j[k].get<std::uint64_t>() > 10'000'000) {
      why = std::string("\"") + k + "\" must be a positive integer";
      return false;
    }
    out = j[k].get<std::uint32_t>();
    return true;
  };
  fixture f;
  if (!count("users", f.users) || !count("rooms", f.rooms) || !count("members", f.members)) return std::nullopt;
  if (j.contains("url") && j["url"].is_string()) f.url = j["url"].get<std::string>();
  if (!j.contains("password") || !j["password"].is_string()) {
    why = "\"password\" must be a string";
    return std::nullopt;
  }
  f.password = j["password"].get<std::string>();
  if (!j.contains("accounts") || !j["accounts"].is_array() || j["accounts"].size() != f.users) {
    why = "\"accounts\" must be an array of \"users\" (" + std::to_string(f.users) + ") entries";
    return std::nullopt;
  }
  for (const auto& a : j["accounts"]) {
    if (!a.is_object() || !a.contains("email") || !a["email"].is_string() || a["email"].get<std::string>().empty() ||
        !a.contains("user_id") || !a["user_id"].is_number_integer() || a["user_id"].get<std::int64_t>() <= 0 ||
        !a.contains("token") || !a["token"].is_string()) {
      why = "account " + std::to_string(f.accounts.size()) + " needs \"email\", a positive \"user_id\" and \"token\"";
      return std::nullopt;
    }
    f.accounts.push_back(
        {a["email"].get<std::string>(), a["user_id"].get<std::int64_t>(), a["token"].get<std::string>()});
  }
  if (!j.contains("room_ids") || !j["room_ids"].is_array() || j["room_ids"].size() != f.rooms) {
    why = "\"room_ids\" must be an array of \"rooms\" (" + std::to_string(f.rooms) + ") ids";
    return std::nullopt;
  }
  for (const auto& r : j["room_ids"]) {
    if (!r.is_number_integer() || r.get<std::int64_t>() <= 0) {
      why = "\"room_ids\" must hold positive integers";
      return std::nullopt;
    }
    f.room_ids.push_back(r.get<std::int64_t>());
  }
  if (f.members > f.users) {
    why = "\"members\" exceeds \"users\"";
    return std::nullopt;
  }
  return f;
}

std::optional<std::string> mismatch(const fixture& f, std::uint32_t users, std::uint32_t rooms, std::uint32_t members) {
  if (f.users == users && f.rooms == rooms && f.members == members) return std::nullopt;
  return "the fixture holds " + std::to_string(f.users) + " users, " + std::to_string(f.rooms) + " rooms x " +
         std::to_string(f.members) + " members; the scenario asks for " + std::to_string(users) + " users, " +
         std::to_string(rooms) + " rooms x " + std::to_string(members) +
         " members (use the same --users/--rooms/--members or another --fixture file)";
}

std::optional<nlohmann::json> read_json_file(const std::string& path, std::string& why) {
  std::ifstream in(path);
  if (!in) {
    why = "cannot read " + path;
    return std::nullopt;
  }
  std::stringstream buf;
  buf << in.rdbuf();
  auto j = nlohmann::json::parse(buf.str(), nullptr, false);
  if (j.is_discarded()) {
    why = path + " is not valid JSON";
    return std::nullopt;
  }
  return j;
}

std::optional<fixture> load_fixture(const std::string& path, std::string& why) {
  auto doc = read_json_file(path, why);
  if (!doc) return std::nullopt;
  const auto& j = *doc;
  auto f = parse_fixture(j, why);
  if (!f) why = path + ": " + why;
  return f;
}

bool save_fixture(const std::string& path, const fixture& f, std::string& why) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp);
    out << to_json(f).dump(1) << "\n";
    if (!out) {
      why = "cannot write " + tmp;
      return false;
    }
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    why = "cannot rename " + tmp + " to " + path;
    return false;
  }
  return true;
}

}  // namespace chatload
