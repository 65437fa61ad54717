#pragma once
// Why a client operation failed without an answer from the server (REST) or why a STOMP
// session ended. HTTP error statuses are not errors here: they are answers (rest_client's
// response::status), and STOMP ERROR frames reach on_error() before the session closes.
#include <system_error>

namespace chat::client {

enum class errc {
  // 0 is success in std::error_code, so the enumerators start at 1.
  unreachable = 1,    // nothing answers: connection refused, unknown host, no route
  timeout,            // the operation did not complete within its time limit
  bad_url,            // the URL cannot be parsed or names an unsupported scheme
  bad_response,       // the peer answered, but not with valid HTTP / JSON of the expected shape
  connection_lost,    // the connection closed before the answer was complete
  not_connected,      // a STOMP operation before CONNECTED or after the session ended
  queue_full,         // the bounded outbound queue has no room for the frame
  server_error,       // the server sent an ERROR frame (the session then ends)
  heartbeat_timeout,  // the server was silent for more than twice the agreed interval
  handshake_failed,   // WebSocket upgrade refused, or no CONNECTED after CONNECT
  protocol_error,     // the server sent something a STOMP client must not accept
  aborted,            // close() was called, or the owner went away
  refused,            // the server refused one frame (ERROR session-closes:false); the session goes on
};

const std::error_category& client_category() noexcept;

std::error_code make_error_code(errc e) noexcept;

// True when `ec` means "the server could not be reached or did not answer": errc::unreachable,
// errc::timeout, errc::heartbeat_timeout, and the socket errors behind them (connection
// refused or reset, host or network unreachable, host not found, timed out). Tools map this
// to their "unavailable" exit status.
bool is_unreachable(std::error_code ec) noexcept;

}  // namespace chat::client

template <>
struct std::is_error_code_enum<chat::client::errc> : std::true_type {};
