#include "preview/policy.hpp"

#include <algorithm>

namespace chat::chatd::preview {
namespace {

// ::ffff:a.b.c.d as a.b.c.d; any other address as it is.
ip_bytes unmapped(const ip_bytes& a) {
  if (!a.v6) return a;
  for (int i = 0; i < 10; ++i) {
    if (a.bytes[i] != 0) return a;
  }
  if (a.bytes[10] != 0xFF || a.bytes[11] != 0xFF) return a;
  ip_bytes v4;
  std::copy(a.bytes.begin() + 12, a.bytes.end(), v4.bytes.begin());
  return v4;
}

}  // namespace

vetted vet(const url& u, const fetch_policy& policy, const resolver& resolve) {
  vetted out;
  const auto entry = std::find_if(policy.allow_hosts.begin(), policy.allow_hosts.end(), [&u](const host_port& e) {
    return e.host == u.host && (!e.port || *e.port == u.port);
  });
  out.exempt = entry != policy.allow_hosts.end();
  if (!out.exempt && policy.allow_hosts_only) {
    out.refused = refusal::not_allowed;
    return out;
  }
  const bool port_listed = std::find(policy.ports.begin(), policy.ports.end(), u.port) != policy.ports.end();
  if (!port_listed && !(out.exempt && entry->port)) {
    out.refused = refusal::port;
    return out;
  }
  // RFC 6761: "localhost" and its subdomains are loopback, whatever a resolver would say; no
  // lookup is made for them (an allowed one is looked up like any allowed name).
  if (!out.exempt && (u.host == "localhost" || u.host.ends_with(".localhost"))) {
    out.refused = refusal::loopback;
    return out;
  }
  if (const auto literal = parse_ip(u.host)) {
    out.addresses.push_back(*literal);
  } else {
    resolution r = resolve ? resolve(u.host) : resolution{{}, "no resolver"};
    if (!r.error.empty() || r.addresses.empty()) {
      out.failed = r.error.empty() ? "no address" : std::move(r.error);
      return out;
    }
    out.addresses = std::move(r.addresses);
  }
  if (!out.exempt) {
    if (const auto bad = check_addresses(out.addresses)) {
      out.refused = bad;
      out.addresses.clear();
      return out;
    }
  }
  for (auto& a : out.addresses) a = unmapped(a);
  return out;
}

}  // namespace chat::chatd::preview
