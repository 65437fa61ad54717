#include "store/connection.hpp"

#include "store/sql_util.hpp"

#include <pqxx/pqxx>

#include <poll.h>

#include <optional>

namespace chat::store {
namespace {

std::string trimmed(std::string s) {
  // libpq messages end in newlines; keep logs and JSON tidy.
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

}  // namespace

struct connection::impl {
  std::string conninfo;
  std::unique_ptr<pqxx::connection> conn;
  std::optional<session> handle;  // on *conn while it exists

  void drop() noexcept {
    handle.reset();
    conn.reset();
  }
};

connection::connection(std::string url, int connect_timeout_s) : impl_(std::make_unique<impl>()) {
  if (url.find("connect_timeout=") == std::string::npos) {
    url += (url.find('?') == std::string::npos ? "?" : "&");
    url += "connect_timeout=" + std::to_string(connect_timeout_s);
  }
  impl_->conninfo = std::move(url);
}

connection::~connection() = default;

session* connection::current() noexcept {
  if (impl_->conn && !impl_->conn->is_open()) impl_->drop();
  return impl_->handle ? &*impl_->handle : nullptr;
}

session* connection::get(std::string& error) {
  if (auto* s = current()) return s;
  try {
    impl_->conn = std::make_unique<pqxx::connection>(impl_->conninfo);
    impl_->handle.emplace(*impl_->conn);
  } catch (const std::exception& e) {
    impl_->drop();
    error = trimmed(e.what());
    return nullptr;
  }
  return &*impl_->handle;
}

void connection::drop_if_server_hung_up() noexcept {
  if (!impl_->conn) return;
  // Between jobs nothing is in flight, so anything readable on the socket is the server
  // speaking unasked. Without this check the first job of every worker after a database
  // restart would fail (a 503, a STOMP CONNECT refused) although the database is back.
  const int fd = impl_->conn->is_open() ? impl_->conn->sock() : -1;
  bool hung_up = fd < 0;
  if (!hung_up) {
    pollfd p{};
    p.fd = fd;
    p.events = POLLIN;
    hung_up = ::poll(&p, 1, 0) != 0;  // readable, hung up, error (or poll itself failed)
  }
  if (hung_up) impl_->drop();
}

void connection::reset() noexcept { impl_->drop(); }

result<void> connection::ping() {
  std::string connect_error;
  session* s = get(connect_error);
  if (s == nullptr) return chat::unexpected(error{errc::unavailable, {}, std::move(connect_error)});
  auto pinged = detail::guarded([&] {
    pqxx::nontransaction tx(s->native<pqxx::connection>());
    tx.exec("SELECT 1");
  });
  if (!pinged) {
    impl_->drop();
    pinged.error().message = trimmed(std::move(pinged.error().message));
  }
  return pinged;
}

std::string with_session_parameters(std::string url, std::string_view application_name) {
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

}  // namespace chat::store
