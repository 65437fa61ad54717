#pragma once
// chatctl's exit statuses (docs/chatctl.md) and the one exception type commands fail with.
#include <chat/client/rest_client.hpp>
#include <chat/stomp/frame.hpp>

#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>

namespace chatctl {

enum class exit_code : int {
  ok = 0,
  error = 1,         // anything else: validation refused, rate limited, server error, bad answer
  usage = 2,         // bad flags or arguments, no way to read a password
  unauthorized = 3,  // no token, token refused, wrong email or password
  not_found = 4,     // no such room or user
  forbidden = 5,     // not a member
  conflict = 6,      // e.g. email already registered
  unavailable = 7,   // server unreachable, timed out, or 503
};

// Thrown by commands; main() prints what() on stderr and exits with code().
class command_error : public std::runtime_error {
 public:
  command_error(exit_code code, const std::string& message) : std::runtime_error(message), code_(code) {}
  exit_code code() const noexcept { return code_; }

 private:
  exit_code code_;
};

[[noreturn]] void fail(exit_code code, const std::string& message);

// HTTP answers and transport failures.
exit_code exit_code_for_status(unsigned status) noexcept;
exit_code exit_code_for(const chat::client::response& r) noexcept;
// Throws the command_error for a failed response; `doing` says what was attempted
// ("cannot list rooms"), `server` names the server for unreachable errors.
[[noreturn]] void fail_response(const chat::client::response& r, std::string_view doing, std::string_view server);

// A STOMP session that ended or failed: the ERROR frame's message header ("unauthorized",
// "forbidden", "service unavailable", ...) when there is one, else the closing reason.
exit_code exit_code_for_stomp(const std::optional<chat::stomp::frame>& error_frame, std::error_code reason) noexcept;
[[noreturn]] void fail_stomp(const std::optional<chat::stomp::frame>& error_frame, std::error_code reason,
                             std::string_view doing, std::string_view server);

}  // namespace chatctl
