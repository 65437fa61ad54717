#pragma once
// Host names and addresses as --preview-allow-hosts names them ("wiki.corp", "10.1.2.3:8080",
// "[fd00::1]:443", "::1") and the port lists of --preview-ports ("80,443"). Parsed at start-up,
// so a bad entry stops chatd with exit code 2. The link preview fetcher (preview/url.hpp)
// normalizes the hosts of URLs with the same normalize_host(), so an entry and a URL naming the
// same host compare equal as strings.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace chat::chatd {

// A host in one spelling: a DNS name in lower case without a trailing dot (labels of letters,
// digits, '-' and '_', 1-63 bytes each, 253 bytes at most), or an IP address in its canonical
// text (inet_ntop: "127.0.0.1", "::1", "::ffff:127.0.0.1"), IPv6 without brackets. nullopt for
// anything else (non-ASCII names, zone ids, empty labels).
std::optional<std::string> normalize_host(std::string_view host);

struct host_port {
  std::string host;                   // normalize_host()
  std::optional<std::uint16_t> port;  // absent: any port

  friend bool operator==(const host_port&, const host_port&) = default;
};

// "host", "host:port", "[v6]", "[v6]:port" or a bare IPv6 address (no port then); ports 1-65535.
std::optional<host_port> parse_host_port(std::string_view text);

// A comma-separated list (blanks around entries ignored, empty list allowed); nullopt with `bad`
// set to the first entry that is not a host[:port].
std::optional<std::vector<host_port>> parse_host_port_list(std::string_view list, std::string& bad);

// A comma-separated list of ports 1-65535, at least one; nullopt with `bad` set to the first entry
// that is not a port.
std::optional<std::vector<std::uint16_t>> parse_port_list(std::string_view list, std::string& bad);

}  // namespace chat::chatd
