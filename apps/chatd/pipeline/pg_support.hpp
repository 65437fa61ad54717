#pragma once
// PostgreSQL helpers of the consumers: array literals for `unnest($n::type[])`
// parameters, the classification of database errors, and a dedicated connection per
// consumer thread that reconnects after a failure.
#include <pqxx/pqxx>

#include <chrono>
#include <cstdint>
#include <exception>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace chat::chatd::pipeline {

// ---- array literals -----------------------------------------------------------------------
// Text-format array literals, passed as one parameter each: the statement stays
// parameterised (nothing is spliced into SQL text) and one round trip carries a batch.

// "{1,2,3}"
std::string pg_int_array(const std::vector<std::int64_t>& values);
// {"a","b\"c"}: every element double-quoted, '"' and '\' escaped, so any text (commas,
// braces, the word NULL, empty strings) stays one element. Text must not contain NUL
// (PostgreSQL text cannot hold it).
std::string pg_text_array(const std::vector<std::string_view>& values);

// ---- errors -------------------------------------------------------------------------------

enum class pg_failure {
  infrastructure,  // connection lost, server shutting down, deadlock, out of resources,
                   // commit outcome unknown, or anything not known to be about the data:
                   // retry later
  data,            // the statement was refused because of the values (SQLSTATE classes 22
                   // data exception and 23 integrity violation): retrying cannot help
};

// Classifies an exception thrown by libpqxx (or anything else: infrastructure).
pg_failure classify_pg_error(const std::exception& e) noexcept;

// ---- connection ---------------------------------------------------------------------------

// The consumer's own PostgreSQL connection (the request pool's are for the REST API).
// One thread only.
class pg_session {
 public:
  // `application_name` shows in pg_stat_activity. TCP keep-alives are enabled so that a
  // vanished server is noticed within seconds instead of hanging a transaction.
  pg_session(std::string url, std::string application_name, std::chrono::milliseconds connect_timeout);
  ~pg_session();
  pg_session(const pg_session&) = delete;
  pg_session& operator=(const pg_session&) = delete;

  // The open connection, connecting first when there is none; nullptr when PostgreSQL
  // cannot be reached now (`error` says why).
  pqxx::connection* get(std::string& error);
  // Drops the connection (after an infrastructure error); the next get() reconnects.
  void reset() noexcept;

 private:
  std::string url_;
  int connect_timeout_s_;
  std::unique_ptr<pqxx::connection> conn_;
};

}  // namespace chat::chatd::pipeline
