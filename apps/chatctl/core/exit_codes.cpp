#include "core/exit_codes.hpp"

#include <chat/client/errc.hpp>

namespace chatctl {

namespace client = chat::client;

void fail(exit_code code, const std::string& message) { throw command_error(code, message); }

exit_code exit_code_for_status(unsigned status) noexcept {
  switch (status) {
    case 401: return exit_code::unauthorized;
    case 403: return exit_code::forbidden;
    case 404: return exit_code::not_found;
    case 409: return exit_code::conflict;
    case 502:
    case 503:
    case 504: return exit_code::unavailable;
    default: return status >= 200 && status < 300 ? exit_code::ok : exit_code::error;
  }
}

exit_code exit_code_for(const client::response& r) noexcept {
  if (r.error) {
    if (client::is_unreachable(r.error) || r.error == client::errc::connection_lost) return exit_code::unavailable;
    return exit_code::error;
  }
  return exit_code_for_status(r.status);
}

void fail_response(const client::response& r, std::string_view doing, std::string_view server) {
  const auto code = exit_code_for(r);
  std::string message(doing);
  if (r.error) {
    message += ": ";
    message += r.error.message();
    if (code == exit_code::unavailable) {
      message += " (";
      message += server;
      message += ")";
    }
  } else {
    message += ": ";
    message += r.api.message.empty() ? r.api.code : r.api.message;
    message += " (HTTP " + std::to_string(r.status);
    if (!r.api.code.empty()) message += " " + r.api.code;
    message += ")";
    if (code == exit_code::unauthorized) message += "; log in again with: chatctl auth login";
  }
  fail(code, message);
}

exit_code exit_code_for_stomp(const std::optional<chat::stomp::frame>& error_frame, std::error_code reason) noexcept {
  if (error_frame) {
    const auto message = error_frame->get("message").value_or("");
    if (message == "unauthorized" || message == "token revoked") return exit_code::unauthorized;
    if (message == "forbidden") return exit_code::forbidden;
    if (message == "not found") return exit_code::not_found;
    if (message == "service unavailable" || message == "server shutting down" || message == "server overloaded") {
      return exit_code::unavailable;
    }
    return exit_code::error;
  }
  if (client::is_unreachable(reason) || reason == client::errc::connection_lost ||
      reason == client::errc::handshake_failed) {
    return exit_code::unavailable;
  }
  return exit_code::error;
}

void fail_stomp(const std::optional<chat::stomp::frame>& error_frame, std::error_code reason, std::string_view doing,
                std::string_view server) {
  std::string message(doing);
  message += ": ";
  if (error_frame) {
    message += error_frame->get("message").value_or("ERROR");
    if (!error_frame->body.empty()) {
      std::string_view body = error_frame->body;
      body = body.substr(0, body.find('\n'));
      message += " (";
      message += body;
      message += ")";
    }
  } else {
    message += reason ? reason.message() : std::string("connection closed");
    message += " (";
    message += server;
    message += ")";
  }
  fail(exit_code_for_stomp(error_frame, reason), message);
}

}  // namespace chatctl
