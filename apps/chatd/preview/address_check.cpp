#include "preview/address_check.hpp"

namespace chat::chatd::preview {
namespace {

using octet = unsigned char;

// IPv4 a.b.c.d given as its four bytes (RFC 6890 special-purpose registry, and multicast).
std::optional<refusal> check_ipv4(octet a, octet b, octet c) noexcept {
  if (a == 0) return refusal::unspecified;                             // 0/8 "this network"
  if (a == 10) return refusal::private_net;                            // 10/8
  if (a == 100 && (b & 0xC0) == 64) return refusal::private_net;       // 100.64/10 CGNAT
  if (a == 127) return refusal::loopback;                              // 127/8
  if (a == 169 && b == 254) return refusal::link_local;                // 169.254/16 (cloud metadata)
  if (a == 172 && (b & 0xF0) == 16) return refusal::private_net;       // 172.16/12
  if (a == 192 && b == 0 && c == 0) return refusal::reserved;          // 192.0.0/24 IETF assignments
  if (a == 192 && b == 0 && c == 2) return refusal::documentation;     // 192.0.2/24 TEST-NET-1
  if (a == 192 && b == 88 && c == 99) return refusal::reserved;        // 192.88.99/24 6to4 relays
  if (a == 192 && b == 168) return refusal::private_net;               // 192.168/16
  if (a == 198 && (b & 0xFE) == 18) return refusal::reserved;          // 198.18/15 benchmarking
  if (a == 198 && b == 51 && c == 100) return refusal::documentation;  // 198.51.100/24 TEST-NET-2
  if (a == 203 && b == 0 && c == 113) return refusal::documentation;   // 203.0.113/24 TEST-NET-3
  if ((a & 0xF0) == 224) return refusal::multicast;                    // 224/4
  if ((a & 0xF0) == 240) return refusal::reserved;                     // 240/4, 255.255.255.255
  return std::nullopt;
}

std::optional<refusal> check_embedded(const ip_bytes& address, std::size_t at) noexcept {
  const auto& b = address.bytes;
  return check_ipv4(b[at], b[at + 1], b[at + 2]);
}

bool zero(const ip_bytes& address, std::size_t from, std::size_t to) noexcept {
  for (std::size_t i = from; i < to; ++i) {
    if (address.bytes[i] != 0) return false;
  }
  return true;
}

std::optional<refusal> check_ipv6(const ip_bytes& address) noexcept {
  const auto& b = address.bytes;
  if (zero(address, 0, 10)) {
    if (b[10] == 0xFF && b[11] == 0xFF) return check_embedded(address, 12);  // ::ffff:a.b.c.d, mapped
    if (b[10] == 0 && b[11] == 0) {
      if (zero(address, 12, 15)) {
        if (b[15] == 0) return refusal::unspecified;  // ::
        if (b[15] == 1) return refusal::loopback;     // ::1
      }
      // ::a.b.c.d, IPv4-compatible (deprecated by RFC 4291): what it carries, else reserved.
      if (const auto carried = check_embedded(address, 12)) return carried;
      return refusal::reserved;
    }
  }
  if (b[0] == 0x00 && b[1] == 0x64 && b[2] == 0xFF && b[3] == 0x9B) {
    if (zero(address, 4, 12)) return check_embedded(address, 12);  // 64:ff9b::/96 NAT64
    return refusal::reserved;                                      // 64:ff9b:1::/48 local-use NAT64, …
  }
  if (b[0] == 0x20 && b[1] == 0x02) return check_embedded(address, 2);                              // 2002::/16 6to4
  if (b[0] == 0x20 && b[1] == 0x01 && b[2] == 0x0D && b[3] == 0xB8) return refusal::documentation;  // 2001:db8::/32
  if (b[0] == 0x3F && b[1] == 0xFF && (b[2] & 0xF0) == 0) return refusal::documentation;            // 3fff::/20
  if (b[0] == 0x20 && b[1] == 0x01 && (b[2] & 0xFE) == 0) return refusal::reserved;  // 2001::/23 (Teredo, …)
  if ((b[0] & 0xFE) == 0xFC) return refusal::unique_local;                           // fc00::/7
  if (b[0] == 0xFE && (b[1] & 0xC0) == 0x80) return refusal::link_local;             // fe80::/10
  if (b[0] == 0xFE && (b[1] & 0xC0) == 0xC0) return refusal::private_net;            // fec0::/10 site-local
  if (b[0] == 0xFF) return refusal::multicast;                                       // ff00::/8
  if ((b[0] & 0xE0) != 0x20) return refusal::reserved;  // outside 2000::/3, the global unicast space
  return std::nullopt;
}

}  // namespace

std::string_view to_string(refusal r) noexcept {
  switch (r) {
    case refusal::bad_url: return "bad_url";
    case refusal::scheme: return "scheme";
    case refusal::port: return "port";
    case refusal::not_allowed: return "not_allowed";
    case refusal::loopback: return "loopback";
    case refusal::private_net: return "private";
    case refusal::link_local: return "link_local";
    case refusal::multicast: return "multicast";
    case refusal::unspecified: return "unspecified";
    case refusal::reserved: return "reserved";
    case refusal::unique_local: return "unique_local";
    case refusal::documentation: return "documentation";
    case refusal::redirects: return "redirects";
    case refusal::content_type: return "content_type";
    case refusal::too_large: return "too_large";
  }
  return "bad_url";
}

std::optional<refusal> check_address(const ip_bytes& address) noexcept {
  if (!address.v6) return check_ipv4(address.bytes[0], address.bytes[1], address.bytes[2]);
  return check_ipv6(address);
}

std::optional<refusal> check_addresses(std::span<const ip_bytes> addresses) noexcept {
  for (const auto& a : addresses) {
    if (auto r = check_address(a)) return r;
  }
  return std::nullopt;
}

}  // namespace chat::chatd::preview
