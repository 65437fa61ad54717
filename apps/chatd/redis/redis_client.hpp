#pragma once
// A blocking Redis connection (hiredis) that reconnects by itself. Used from worker
// and consumer threads only, never from an I/O thread. Not thread-safe: one per thread.
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace chat::redis {

struct endpoint {
  std::string host = "127.0.0.1";
  std::uint16_t port = 6379;
  std::string password;  // never logged
  int db = 0;
};

// Parses redis://[:password@]host[:port][/db]; nullopt when malformed.
std::optional<endpoint> parse_url(std::string_view url);

struct reply {
  enum class kind { nil, status, error, integer, string, array };
  kind type = kind::nil;
  std::int64_t integer = 0;
  std::string str;  // status, error or string payload
  std::vector<reply> elements;
};

class client {
 public:
  client(endpoint ep, std::chrono::milliseconds timeout);
  ~client();
  client(const client&) = delete;
  client& operator=(const client&) = delete;

  // Runs one command. On a connection failure it reconnects once and retries; returns
  // nullopt (with last_error() set) when Redis cannot be reached.
  std::optional<reply> command(const std::vector<std::string_view>& args);

  bool connected() const noexcept;
  const std::string& last_error() const noexcept { return last_error_; }

 private:
  bool ensure_connected();

  struct impl;
  std::unique_ptr<impl> impl_;
  endpoint ep_;
  std::chrono::milliseconds timeout_;
  std::string last_error_;
};

}  // namespace chat::redis
