#pragma once
// STOMP frames as values: what the decoder produces and the encoder consumes.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace chat::stomp {

// Every command of STOMP 1.2 (client and server frames alike).
enum class command {
  connect,
  stomp,
  connected,
  send,
  subscribe,
  unsubscribe,
  ack,
  nack,
  begin,
  commit,
  abort,
  disconnect,
  message,
  receipt,
  error,
};

// Wire spelling ("SEND", "MESSAGE", ...).
std::string_view to_string(command cmd) noexcept;

// Inverse of to_string(); case-sensitive, as the spec requires. nullopt for anything else.
std::optional<command> parse_command(std::string_view text) noexcept;

// CONNECT, STOMP and CONNECTED carry their headers unescaped (spec §Value Encoding),
// for compatibility with STOMP 1.0 peers.
bool is_escape_exempt(command cmd) noexcept;

// One header entry, already unescaped: name and value may hold any octet.
struct header {
  std::string name;
  std::string value;

  friend bool operator==(const header&, const header&) = default;
};

struct frame {
  command cmd = command::send;
  // In wire order. Repeated names are kept: STOMP 1.2 says the first one counts.
  std::vector<header> headers;
  // Opaque octets; may contain NULs (then a content-length header is required on the wire,
  // which the encoder adds by itself).
  std::string body;

  // Value of the first header called `name`; the view points into this frame.
  std::optional<std::string_view> get(std::string_view name) const noexcept;

  // Sets header `name` to `value`: the first entry of that name is replaced and any later
  // repeats are removed, or a new entry is appended when there was none.
  void set(std::string name, std::string value);

  friend bool operator==(const frame&, const frame&) = default;
};

}  // namespace chat::stomp
