#include <chat/stomp/frame.hpp>

#include <algorithm>
#include <utility>

namespace chat::stomp {

std::string_view to_string(command cmd) noexcept {
  switch (cmd) {
    case command::connect: return "CONNECT";
    case command::stomp: return "STOMP";
    case command::connected: return "CONNECTED";
    case command::send: return "SEND";
    case command::subscribe: return "SUBSCRIBE";
    case command::unsubscribe: return "UNSUBSCRIBE";
    case command::ack: return "ACK";
    case command::nack: return "NACK";
    case command::begin: return "BEGIN";
    case command::commit: return "COMMIT";
    case command::abort: return "ABORT";
    case command::disconnect: return "DISCONNECT";
    case command::message: return "MESSAGE";
    case command::receipt: return "RECEIPT";
    case command::error: return "ERROR";
  }
  return "UNKNOWN";  // unreachable for valid enumerators
}

std::optional<command> parse_command(std::string_view text) noexcept {
  static constexpr command all[] = {
      command::connect,     command::stomp,      command::connected, command::send,    command::subscribe,
      command::unsubscribe, command::ack,        command::nack,      command::begin,   command::commit,
      command::abort,       command::disconnect, command::message,   command::receipt, command::error,
  };
  for (const command c : all) {
    if (to_string(c) == text) return c;
  }
  return std::nullopt;
}

bool is_escape_exempt(command cmd) noexcept {
  return cmd == command::connect || cmd == command::stomp || cmd == command::connected;
}

std::optional<std::string_view> frame::get(std::string_view name) const noexcept {
  for (const header& h : headers) {
    if (h.name == name) return std::string_view(h.value);
  }
  return std::nullopt;
}

void frame::set(std::string name, std::string value) {
  const auto first = std::find_if(headers.begin(), headers.end(), [&](const header& h) { return h.name == name; });
  if (first == headers.end()) {
    headers.push_back(header{std::move(name), std::move(value)});
    return;
  }
  first->value = std::move(value);
  headers.erase(std::remove_if(std::next(first), headers.end(), [&](const header& h) { return h.name == first->name; }),
                headers.end());
}

}  // namespace chat::stomp
