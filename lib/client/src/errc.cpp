#include <chat/client/errc.hpp>

#include <string_view>

#include <string>

namespace chat::client {
namespace {

class category final : public std::error_category {
 public:
  const char* name() const noexcept override { return "chat.client"; }

  std::string message(int value) const override {
    switch (static_cast<errc>(value)) {
      case errc::unreachable: return "server unreachable";
      case errc::timeout: return "timed out";
      case errc::bad_url: return "bad URL";
      case errc::bad_response: return "malformed response";
      case errc::connection_lost: return "connection lost";
      case errc::not_connected: return "not connected";
      case errc::queue_full: return "outbound queue full";
      case errc::server_error: return "server sent an ERROR frame";
      case errc::heartbeat_timeout: return "server heart-beats missing";
      case errc::handshake_failed: return "handshake failed";
      case errc::protocol_error: return "protocol error";
      case errc::aborted: return "aborted";
      case errc::refused: return "refused by the server";
    }
    return "unknown client error";
  }
};

}  // namespace

const std::error_category& client_category() noexcept {
  static const category instance;
  return instance;
}

std::error_code make_error_code(errc e) noexcept { return {static_cast<int>(e), client_category()}; }

bool is_unreachable(std::error_code ec) noexcept {
  if (!ec) return false;
  if (ec.category() == client_category()) {
    switch (static_cast<errc>(ec.value())) {
      case errc::unreachable:
      case errc::timeout:
      case errc::heartbeat_timeout: return true;
      case errc::bad_url:
      case errc::bad_response:
      case errc::connection_lost:
      case errc::not_connected:
      case errc::queue_full:
      case errc::server_error:
      case errc::handshake_failed:
      case errc::protocol_error:
      case errc::aborted:
      case errc::refused: return false;
    }
    return false;
  }
  // Socket errors arrive as boost::system::error_code converted to std::error_code (a
  // wrapper category), so compare through the portable conditions.
  for (const auto condition : {std::errc::connection_refused, std::errc::connection_reset, std::errc::host_unreachable,
                               std::errc::network_unreachable, std::errc::network_down, std::errc::timed_out,
                               std::errc::address_not_available}) {
    if (ec == condition) return true;
  }
  const std::string_view name = ec.category().name();
  return name == "asio.netdb" || name == "asio.addrinfo";
}

}  // namespace chat::client
