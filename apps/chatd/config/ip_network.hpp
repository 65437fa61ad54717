#pragma once
// IP networks as --trusted-proxies names them: "10.0.0.0/8", "fd00::/8" or one address
// ("192.0.2.7" = /32, "::1" = /128). Parsed at start-up, so a bad entry stops chatd with
// exit code 2 instead of silently trusting nobody (or everybody).
#include <array>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace chat::chatd {

// An address in network byte order: IPv4 in the first 4 bytes (v6 false), else all 16.
struct ip_bytes {
  bool v6 = false;
  std::array<unsigned char, 16> bytes{};
};

struct ip_network {
  ip_bytes base;  // bits past `prefix` are zero
  int prefix = 0;

  // Same family and the first `prefix` bits equal. An IPv4-mapped IPv6 address
  // (::ffff:a.b.c.d) must be passed as IPv4.
  bool contains(const ip_bytes& address) const;
};

// One address, IPv4 dotted or IPv6 text; nullopt when it is neither.
std::optional<ip_bytes> parse_ip(std::string_view text);

// "address" or "address/prefix"; nullopt when malformed or the prefix is out of range.
// Host bits past the prefix are cleared ("10.1.2.3/8" is 10.0.0.0/8).
std::optional<ip_network> parse_ip_network(std::string_view text);

// A comma-separated list (blanks around entries ignored, empty list allowed); nullopt with
// `bad` set to the first entry that is not an address or network.
std::optional<std::vector<ip_network>> parse_ip_networks(std::string_view list, std::string& bad);

}  // namespace chat::chatd
