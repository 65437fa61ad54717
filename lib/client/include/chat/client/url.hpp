#pragma once
// Server addresses: http://host:port for REST, ws://host:port/path and tcp://host:port (or
// stomp://host:port) for STOMP. TLS (https://, wss://) is not supported by this client.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace chat::client {

enum class scheme {
  http,  // REST base URL
  ws,    // STOMP over WebSocket
  tcp,   // STOMP over plain TCP ("tcp://" and "stomp://")
};

struct url {
  scheme kind = scheme::http;
  std::string host;        // a name, an IPv4 address, or an IPv6 address without brackets
  std::uint16_t port = 0;  // explicit or the scheme's default (80, 80, 61613)
  // http: a base path without trailing '/' ("" or "/chat"); ws: the request target ("/ws",
  // "/" when the URL has no path), query included; tcp: always "".
  std::string path;

  friend bool operator==(const url&, const url&) = default;
};

// Parses "scheme://host[:port][/path]". Hosts: names, IPv4 and "[v6]" literals. No user
// info and no fragment. On failure returns nullopt and, when `why` is given, one sentence
// saying what is wrong (fit for a command-line diagnostic).
std::optional<url> parse_url(std::string_view text, std::string* why = nullptr);

// "host:port" with IPv6 hosts in brackets: the HTTP Host header, the WebSocket handshake host.
std::string host_port(const url& u);

// Canonical text: scheme://host:port[path].
std::string to_string(const url& u);

// The STOMP-over-WebSocket endpoint of a chatd REST base URL: same host and port, path
// base + "/ws" (chatd serves both on one port).
url websocket_url_for(const url& http_base);

}  // namespace chat::client
