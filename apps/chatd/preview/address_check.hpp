#pragma once
// Which addresses a link preview may connect to (SPEC §16, docs/operations.md "Link previews"):
// pure functions over resolved addresses, no I/O. The fetcher resolves a host once, judges every
// address here, and connects only to addresses judged here (no second lookup: DNS rebinding
// cannot swap them).
#include "config/ip_network.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

namespace chat::chatd::preview {

// Why a URL gets no preview by rule (a "refusal", against a "failure" of the fetch). The names
// (to_string) are the reason labels of chat_previews_refused_total.
enum class refusal : std::uint8_t {
  bad_url,      // "bad_url": not a URL the fetcher reads (user info, no host, a non-ASCII host, …)
  scheme,       // "scheme": not http or https (a redirect elsewhere)
  port,         // "port": not in --preview-ports
  not_allowed,  // "not_allowed": --preview-allow-hosts-only and the host is not listed
  loopback,     // "loopback": 127/8, ::1
  private_net,  // "private": 10/8, 172.16/12, 192.168/16, 100.64/10 (CGNAT), fec0::/10 (site-local)
  link_local,   // "link_local": 169.254/16, fe80::/10
  multicast,    // "multicast": 224/4, ff00::/8
  unspecified,  // "unspecified": 0/8, ::
  reserved,  // "reserved": 240/4 and 255.255.255.255, 192.0.0/24, 198.18/15, 192.88.99/24, other IPv6 outside 2000::/3,
             // …
  unique_local,   // "unique_local": fc00::/7
  documentation,  // "documentation": 192.0.2/24, 198.51.100/24, 203.0.113/24, 2001:db8::/32, 3fff::/20
  redirects,      // "redirects": more than 3
  content_type,   // "content_type": not text/html
  too_large,      // "too_large": a body past 1 MiB (declared or read)
};
inline constexpr std::size_t refusal_count = 15;
inline constexpr std::array<refusal, refusal_count> all_refusals{
    refusal::bad_url,      refusal::scheme,        refusal::port,      refusal::not_allowed,  refusal::loopback,
    refusal::private_net,  refusal::link_local,    refusal::multicast, refusal::unspecified,  refusal::reserved,
    refusal::unique_local, refusal::documentation, refusal::redirects, refusal::content_type, refusal::too_large};

std::string_view to_string(refusal r) noexcept;

// Why `address` must not be connected to, or nullopt for a public unicast address. An IPv6
// address that carries an IPv4 one is judged by it: IPv4-mapped ::ffff:a.b.c.d, NAT64
// 64:ff9b::a.b.c.d and 6to4 2002:aabb:ccdd::/48. IPv4-compatible ::a.b.c.d (deprecated), Teredo
// (2001::/32, inside 2001::/23) and local-use NAT64 (64:ff9b:1::/48) are refused as reserved
// whatever they carry: no web server has one.
std::optional<refusal> check_address(const ip_bytes& address) noexcept;

// The refusal of the first bad address of `addresses`: ONE bad address refuses the host (a name
// that resolves to a public and a private address could be answered by either). nullopt when
// every address is public (also for none: the caller treats no address as a failed lookup).
std::optional<refusal> check_addresses(std::span<const ip_bytes> addresses) noexcept;

}  // namespace chat::chatd::preview
