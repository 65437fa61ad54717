#include "pipeline/pg_support.hpp"

#include <algorithm>

namespace chat::chatd::pipeline {

std::string pg_int_array(const std::vector<std::int64_t>& values) {
  std::string out;
  out.reserve(2 + values.size() * 12);
  out.push_back('{');
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (i != 0) out.push_back(',');
    out += std::to_string(values[i]);
  }
  out.push_back('}');
  return out;
}

std::string pg_text_array(const std::vector<std::string_view>& values) {
  std::size_t size = 2;
  for (auto v : values) size += v.size() + 3;
  std::string out;
  out.reserve(size + size / 16);
  out.push_back('{');
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (i != 0) out.push_back(',');
    out.push_back('"');
    for (char c : values[i]) {
      if (c == '"' || c == '\\') out.push_back('\\');
      out.push_back(c);
    }
    out.push_back('"');
  }
  out.push_back('}');
  return out;
}

pg_failure classify_pg_error(const std::exception& e) noexcept {
  if (const auto* sql = dynamic_cast<const pqxx::sql_error*>(&e)) {
    const std::string& state = sql->sqlstate();
    if (state.size() == 5 && (state.compare(0, 2, "22") == 0 || state.compare(0, 2, "23") == 0)) {
      return pg_failure::data;
    }
  }
  // broken_connection, in_doubt_error, class 08/40/53/57/58/XX, and the unexpected.
  return pg_failure::infrastructure;
}

namespace {

std::string with_parameters(std::string url, const std::string& application_name) {
  auto add = [&url](std::string_view key, const std::string& value) {
    if (url.find(std::string(key) + "=") != std::string::npos) return;
    url += url.find('?') == std::string::npos ? '?' : '&';
    url += key;
    url += '=';
    url += value;
  };
  std::string name;
  for (char c : application_name) {
    const bool plain =
        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
    name.push_back(plain ? c : '_');
  }
  add("application_name", name.substr(0, 63));
  add("keepalives", "1");
  add("keepalives_idle", "5");
  add("keepalives_interval", "2");
  add("keepalives_count", "3");
  return url;
}

}  // namespace

pg_session::pg_session(std::string url, std::string application_name, std::chrono::milliseconds connect_timeout)
    : url_(with_parameters(std::move(url), application_name)),
      connect_timeout_s_(static_cast<int>(std::max<std::int64_t>(1, (connect_timeout.count() + 999) / 1000))) {}

pg_session::~pg_session() = default;

pqxx::connection* pg_session::get(std::string& error) {
  if (conn_ && !conn_->is_open()) conn_.reset();
  if (conn_) return conn_.get();
  try {
    std::string conninfo = url_;
    if (conninfo.find("connect_timeout=") == std::string::npos) {
      conninfo += (conninfo.find('?') == std::string::npos ? "?" : "&");
      conninfo += "connect_timeout=" + std::to_string(connect_timeout_s_);
    }
    conn_ = std::make_unique<pqxx::connection>(conninfo);
  } catch (const std::exception& e) {
    error = e.what();
    while (!error.empty() && (error.back() == '\n' || error.back() == ' ')) error.pop_back();
    return nullptr;
  }
  return conn_.get();
}

void pg_session::reset() noexcept { conn_.reset(); }

}  // namespace chat::chatd::pipeline
