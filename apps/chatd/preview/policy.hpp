#pragma once
// What the link preview fetcher may connect to (SPEC §16, docs/operations.md "Link previews"),
// decided per URL -- the message's, then each redirect's -- before anything is sent. Pure but
// for the resolver, which is injected (tests give a fake one; the fetcher gives getaddrinfo).
#include "config/host_port.hpp"
#include "config/ip_network.hpp"
#include "preview/address_check.hpp"
#include "preview/url.hpp"

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace chat::chatd::preview {

struct fetch_policy {
  std::vector<std::uint16_t> ports{80, 443};  // --preview-ports
  // --preview-allow-hosts: a URL whose host (as normalize_host() spells it, so by name, not by the
  // addresses a name resolves to) is listed skips the address check; an entry with a port
  // matches that port only and also admits it past `ports`, one without matches any port and
  // leaves the port check in place.
  std::vector<host_port> allow_hosts;
  bool allow_hosts_only = false;  // --preview-allow-hosts-only: every other host is refused, unresolved
};

// What a lookup of a host name gave: its addresses (every one, IPv4 and IPv6), or why none.
struct resolution {
  std::vector<ip_bytes> addresses;
  std::string error;  // set (and addresses empty) when the lookup failed
};
using resolver = std::function<resolution(const std::string& host)>;

// The decision about one URL.
struct vetted {
  std::optional<refusal> refused;
  std::string failed;               // the lookup failed or found nothing: why (a failure, not a refusal)
  std::vector<ip_bytes> addresses;  // neither: what to connect to, and nothing else
  bool exempt = false;              // an --preview-allow-hosts entry matched

  bool ok() const noexcept { return !refused && failed.empty(); }
};

// In this order: the allow list (allow_hosts_only: an unlisted host is refused here, before any
// lookup); the port; "localhost" and *.localhost, refused as loopback unless exempt (RFC 6761: no
// lookup); the addresses -- an IP literal is its own, a name is resolved ONCE by `resolve` --
// then, unless exempt, check_addresses() over all of them (one bad address refuses).
// An IPv4-mapped address is returned as the IPv4 one it carries (what the socket connects to).
vetted vet(const url& u, const fetch_policy& policy, const resolver& resolve);

}  // namespace chat::chatd::preview
