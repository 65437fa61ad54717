#pragma once
// Who a signup or login comes from, for the per-address limit (docs/operations.md,
// --trusted-proxies), and that limit itself.
#include "config/ip_network.hpp"

#include <boost/asio/ip/address.hpp>

#include <chrono>
#include <cstddef>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace chat::chatd::api {

// `a` as ip_bytes; an IPv4-mapped IPv6 address (a dual-stack listener's IPv4 peer) as IPv4.
ip_bytes to_ip_bytes(const boost::asio::ip::address& a);

// The client address of a request that arrived from `peer` with the X-Forwarded-For
// values `forwarded_for` (every such header's value joined with ','; empty when none).
// An untrusted peer is the client, whatever its X-Forwarded-For says (anyone can send
// one). A trusted peer (a proxy of ours) appended the address it saw to the list: walking
// it from the right, the first entry that is not a trusted proxy is the client. An entry
// that is not an address ends the walk at the proxy that passed it on; a list of trusted
// proxies only names its left-most entry.
ip_bytes client_address(const boost::asio::ip::address& peer, std::string_view forwarded_for,
                        const std::vector<ip_network>& trusted);

// A token bucket per client address: `per_second` sustained, `burst` at once. IPv6
// clients are counted per /64 (one host usually owns a whole /64). At most `max_entries`
// addresses are tracked; past that, addresses not yet tracked share one bucket, so the
// table's memory is bounded and the limit still holds for a flood from many addresses.
// Entries whose bucket has refilled are swept. Per node: each chatd counts on its own.
// Thread-safe; each call holds a mutex for O(1) work, plus a sweep at most once per
// refill time.
class address_rate_limiter {
 public:
  using clock = std::chrono::steady_clock;

  address_rate_limiter(double per_second, double burst, std::size_t max_entries);

  // Takes a token for `who`: nullopt when allowed, else how long until a token is back
  // (at least one second, for Retry-After).
  std::optional<std::chrono::seconds> acquire(const ip_bytes& who, clock::time_point now);

  // Addresses tracked now.
  std::size_t tracked() const;

 private:
  struct bucket {
    double tokens;
    clock::time_point last;
  };
  std::optional<std::chrono::seconds> take(bucket& b, clock::time_point now) const;
  void sweep(clock::time_point now);

  const double per_second_;
  const double burst_;
  const std::size_t max_entries_;
  const clock::duration refill_time_;  // empty to full
  mutable std::mutex mutex_;
  std::unordered_map<std::string, bucket> buckets_;
  std::optional<bucket> overflow_;
  clock::time_point last_sweep_{};
};

}  // namespace chat::chatd::api
