#include "core/config_file.hpp"

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace chatctl {

namespace fs = std::filesystem;
using config_json = nlohmann::json;  // chatctl::json is the ordered one (output.hpp)

namespace {

std::string errno_text() { return std::strerror(errno); }

std::string string_member(const config_json& j, const char* key) {
  const auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// Writes all of `data` to `fd`, retrying on EINTR and short writes.
bool write_all(int fd, const std::string& data) {
  std::size_t done = 0;
  while (done < data.size()) {
    const auto n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    done += static_cast<std::size_t>(n);
  }
  return true;
}

}  // namespace

std::optional<fs::path> config_path_from(const char* xdg_config_home, const char* home) {
  // XDG Base Directory: a relative XDG_CONFIG_HOME is invalid and must be ignored.
  if (xdg_config_home != nullptr && xdg_config_home[0] == '/') {
    return fs::path(xdg_config_home) / "chatctl" / "config.json";
  }
  if (home != nullptr && home[0] != '\0') return fs::path(home) / ".config" / "chatctl" / "config.json";
  return std::nullopt;
}

std::optional<fs::path> default_config_path() {
  return config_path_from(std::getenv("XDG_CONFIG_HOME"), std::getenv("HOME"));
}

config_file config_file::load(const fs::path& path) {
  config_file c;
  c.path_ = path;
  std::error_code ec;
  const auto status = fs::status(path, ec);
  if (status.type() == fs::file_type::not_found) return c;
  if (ec) throw config_error("cannot read " + path.string() + ": " + ec.message());
  if (status.type() != fs::file_type::regular) throw config_error(path.string() + " is not a regular file");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw config_error("cannot read " + path.string() + ": " + errno_text());
  std::stringstream buffer;
  buffer << in.rdbuf();
  const std::string text = buffer.str();
  if (text.find_first_not_of(" \t\r\n") == std::string::npos) return c;
  c.doc_ = config_json::parse(text, nullptr, false);
  if (c.doc_.is_discarded() || !c.doc_.is_object()) {
    throw config_error(path.string() + " is not a JSON object; fix or remove it");
  }
  if (const auto p = c.doc_.find("profiles"); p != c.doc_.end() && !p->is_object()) {
    throw config_error(path.string() + ": \"profiles\" must be an object");
  }
  return c;
}

std::optional<profile> config_file::get(const std::string& name) const {
  const auto profiles = doc_.find("profiles");
  if (profiles == doc_.end()) return std::nullopt;
  const auto it = profiles->find(name);
  if (it == profiles->end() || !it->is_object()) return std::nullopt;
  profile p;
  p.server = string_member(*it, "server");
  p.token = string_member(*it, "token");
  p.refresh_token = string_member(*it, "refreshToken");
  p.email = string_member(*it, "email");
  p.nickname = string_member(*it, "nickname");
  if (const auto id = it->find("userId"); id != it->end() && id->is_number_integer())
    p.user_id = id->get<std::int64_t>();
  return p;
}

void config_file::put(const std::string& name, const profile& p) {
  config_json& entry = doc_["profiles"][name];
  if (!entry.is_object()) entry = config_json::object();
  auto set_or_erase = [&entry](const char* key, const std::string& value) {
    if (value.empty()) {
      entry.erase(key);
    } else {
      entry[key] = value;
    }
  };
  set_or_erase("server", p.server);
  set_or_erase("token", p.token);
  set_or_erase("refreshToken", p.refresh_token);
  set_or_erase("email", p.email);
  set_or_erase("nickname", p.nickname);
  if (p.user_id != 0) {
    entry["userId"] = p.user_id;
  } else {
    entry.erase("userId");
  }
}

bool config_file::erase(const std::string& name) {
  const auto profiles = doc_.find("profiles");
  return profiles != doc_.end() && profiles->erase(name) > 0;
}

std::vector<std::string> config_file::names() const {
  std::vector<std::string> out;
  const auto profiles = doc_.find("profiles");
  if (profiles == doc_.end()) return out;
  for (const auto& item : profiles->items()) out.push_back(item.key());
  return out;
}

void config_file::save() const {
  const fs::path dir = path_.parent_path();
  if (!dir.empty()) {
    std::error_code ec;
    const bool existed = fs::exists(dir, ec);
    fs::create_directories(dir, ec);
    if (ec) throw config_error("cannot create " + dir.string() + ": " + ec.message());
    if (!existed) ::chmod(dir.c_str(), 0700);
  }
  const std::string text = doc_.dump(2) + "\n";
  // A temporary file in the same directory, created 0600 whatever the umask, then renamed
  // over the old file: readers see the old or the new file, never a partial one.
  std::string tmp = path_.string() + ".tmp-XXXXXX";
  const int fd = ::mkstemp(tmp.data());
  if (fd < 0) throw config_error("cannot write " + path_.string() + ": " + errno_text());
  bool ok = ::fchmod(fd, 0600) == 0 && write_all(fd, text) && ::fsync(fd) == 0;
  const int saved_errno = errno;
  ok = (::close(fd) == 0) && ok;
  if (!ok || ::rename(tmp.c_str(), path_.c_str()) != 0) {
    const std::string why = std::strerror(ok ? errno : saved_errno);
    ::unlink(tmp.c_str());
    throw config_error("cannot write " + path_.string() + ": " + why);
  }
}

unsigned config_file::loose_permissions() const {
  struct stat st {};
  if (::stat(path_.c_str(), &st) != 0) return 0;
  return static_cast<unsigned>(st.st_mode) & 0177u;
}

}  // namespace chatctl
