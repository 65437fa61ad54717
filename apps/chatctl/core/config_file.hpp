#pragma once
// chatctl's configuration: named profiles, each with a server URL and the token of the user
// logged in there. One JSON file, $XDG_CONFIG_HOME/chatctl/config.json (by default
// ~/.config/chatctl/config.json), always written with mode 0600 in a 0700 directory,
// atomically (temporary file + rename), so a crash never leaves half a file or a moment where
// the token is readable by others.
//
//   {"profiles": {"default": {"server": "http://127.0.0.1:8080", "token": "…", "refreshToken": "crt_…",
//                             "userId": 7, "email": "ann@example.com", "nickname": "ann"}}}
//
// Members this version does not know are kept when the file is rewritten.
#include <nlohmann/json.hpp>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace chatctl {

struct profile {
  std::string server;         // REST base URL ("" = not set)
  std::string token;          // "" = logged out
  std::string refresh_token;  // renews `token` when it expires (docs/chatctl.md "Tokens"); "" = none
  std::int64_t user_id = 0;
  std::string email;
  std::string nickname;
};

// The file exists but cannot be read or parsed, or cannot be written.
class config_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// $XDG_CONFIG_HOME/chatctl/config.json when XDG_CONFIG_HOME is set to an absolute path,
// else $HOME/.config/chatctl/config.json. nullopt when neither is usable.
std::optional<std::filesystem::path> config_path_from(const char* xdg_config_home, const char* home);
// The same, from the process environment.
std::optional<std::filesystem::path> default_config_path();

class config_file {
 public:
  // A missing file is an empty configuration; an unreadable or malformed one throws.
  static config_file load(const std::filesystem::path& path);

  const std::filesystem::path& path() const noexcept { return path_; }

  std::optional<profile> get(const std::string& name) const;
  void put(const std::string& name, const profile& p);
  bool erase(const std::string& name);
  std::vector<std::string> names() const;

  // Writes atomically with mode 0600, creating the directory (0700) when needed.
  void save() const;

  // Permission bits of the file on disk beyond 0600 (0 when fine or missing): a warning sign.
  unsigned loose_permissions() const;

 private:
  std::filesystem::path path_;
  nlohmann::json doc_ = nlohmann::json::object();
};

}  // namespace chatctl
