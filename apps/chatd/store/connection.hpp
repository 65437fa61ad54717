#pragma once
// One PostgreSQL connection owned by one thread (a consumer, the health monitor, a db_pool
// worker), reconnecting on demand. The vendor connection stays inside connection.cpp.
#include "store/error.hpp"
#include "store/session.hpp"

#include <memory>
#include <string>
#include <string_view>

namespace chat::store {

class connection {
 public:
  // `url` is a libpq connection URI; connect_timeout is added unless the URI sets one.
  connection(std::string url, int connect_timeout_s);
  ~connection();
  connection(const connection&) = delete;
  connection& operator=(const connection&) = delete;

  // The open session, connecting first when there is none; nullptr when PostgreSQL cannot
  // be reached now (`error` says why, without libpq's trailing newline).
  session* get(std::string& error);
  // The open session without connecting; nullptr when there is none (a connection the
  // server or libpq closed is dropped first).
  session* current() noexcept;
  // Drops the connection when the server has spoken unasked while it was idle (in practice
  // the FATAL of a shutdown or restart, or EOF). libpq still calls such a connection open
  // until a query fails on it. Call only between jobs, when nothing is in flight.
  void drop_if_server_hung_up() noexcept;
  // Drops the connection (after an infrastructure error); the next get() reconnects.
  void reset() noexcept;

  // SELECT 1, connecting first when needed; an error drops the connection.
  result<void> ping();

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

// `url` with application_name (shown in pg_stat_activity; characters other than
// [A-Za-z0-9._-] become '_', at most 63) and TCP keep-alives, so that a vanished server is
// noticed within seconds instead of hanging a transaction. Parameters the URI already
// sets are kept.
std::string with_session_parameters(std::string url, std::string_view application_name);

}  // namespace chat::store
