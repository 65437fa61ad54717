// Who a signup or login comes from (api/client_address.hpp, config/ip_network.hpp): the
// --trusted-proxies list, X-Forwarded-For only from trusted peers, and the per-address
// token bucket with its bounded table.
#include "api/client_address.hpp"
#include "config/ip_network.hpp"

#include <boost/asio/ip/address.hpp>

#include <gtest/gtest.h>

#include <string>

using namespace chat::chatd;
using namespace chat::chatd::api;
using namespace std::chrono_literals;
using boost::asio::ip::make_address;

namespace {

ip_bytes ip(const char* text) {
  auto a = parse_ip(text);
  EXPECT_TRUE(a) << text;
  return a.value_or(ip_bytes{});
}

bool same(const ip_bytes& a, const ip_bytes& b) { return a.v6 == b.v6 && a.bytes == b.bytes; }

std::vector<ip_network> networks(const char* list) {
  std::string bad;
  auto out = parse_ip_networks(list, bad);
  EXPECT_TRUE(out) << bad;
  return out.value_or(std::vector<ip_network>{});
}

TEST(IpNetwork, ParsesAddressesAndPrefixes) {
  auto net = parse_ip_network("10.1.2.3/8");
  ASSERT_TRUE(net);
  EXPECT_EQ(net->prefix, 8);
  EXPECT_TRUE(same(net->base, ip("10.0.0.0")));  // host bits cleared
  EXPECT_TRUE(net->contains(ip("10.255.0.1")));
  EXPECT_FALSE(net->contains(ip("11.0.0.1")));

  auto one = parse_ip_network(" 192.0.2.7 ");
  ASSERT_TRUE(one);
  EXPECT_EQ(one->prefix, 32);
  EXPECT_TRUE(one->contains(ip("192.0.2.7")));
  EXPECT_FALSE(one->contains(ip("192.0.2.8")));

  auto odd = parse_ip_network("172.16.0.0/12");
  ASSERT_TRUE(odd);
  EXPECT_TRUE(odd->contains(ip("172.31.255.255")));
  EXPECT_FALSE(odd->contains(ip("172.32.0.0")));

  auto v6 = parse_ip_network("fd00::/8");
  ASSERT_TRUE(v6);
  EXPECT_TRUE(v6->contains(ip("fdab::1")));
  EXPECT_FALSE(v6->contains(ip("fe80::1")));
  EXPECT_FALSE(v6->contains(ip("10.0.0.1")));  // other family

  auto all = parse_ip_network("0.0.0.0/0");
  ASSERT_TRUE(all);
  EXPECT_TRUE(all->contains(ip("203.0.113.9")));
  EXPECT_FALSE(all->contains(ip("::1")));
}

TEST(IpNetwork, RefusesWhatIsNotAnAddressOrNetwork) {
  for (const char* bad : {"", "10.0.0.0/33", "::/129", "10.0.0.0/", "10.0.0.0/-1", "10.0.0.0/8x", "10.0.0",
                          "proxy.local", "10.0.0.1/8/8", "1.2.3.4:80"}) {
    EXPECT_FALSE(parse_ip_network(bad)) << bad;
  }
  std::string bad;
  EXPECT_FALSE(parse_ip_networks("10.0.0.0/8, nonsense ,::1", bad));
  EXPECT_EQ(bad, "nonsense");
  EXPECT_FALSE(parse_ip_networks("10.0.0.1,,10.0.0.2", bad));
  auto none = parse_ip_networks("  ", bad);
  ASSERT_TRUE(none);
  EXPECT_TRUE(none->empty());
  EXPECT_EQ(networks("10.0.0.0/8, ::1,192.0.2.1").size(), 3u);
}

TEST(ClientAddress, WithoutTrustedProxiesThePeerIsTheClient) {
  const auto peer = make_address("198.51.100.4");
  EXPECT_TRUE(same(client_address(peer, "203.0.113.9", {}), ip("198.51.100.4")));
  // A dual-stack listener's IPv4 peer counts as IPv4.
  EXPECT_TRUE(same(client_address(make_address("::ffff:198.51.100.4"), "", {}), ip("198.51.100.4")));
}

TEST(ClientAddress, AnUntrustedPeersForwardedForIsIgnored) {
  // Spoofing: a client that writes X-Forwarded-For itself, without passing a proxy of ours.
  const auto trusted = networks("10.0.0.0/8");
  EXPECT_TRUE(same(client_address(make_address("198.51.100.4"), "203.0.113.9, 10.0.0.5", trusted), ip("198.51.100.4")));
}

TEST(ClientAddress, BehindTrustedProxiesTheRightMostUntrustedEntryIsTheClient) {
  const auto trusted = networks("10.0.0.0/8,192.0.2.1");
  const auto proxy = make_address("10.0.0.2");
  // The client put a fake address first; our proxies appended what they saw.
  EXPECT_TRUE(same(client_address(proxy, "1.1.1.1, 203.0.113.9, 192.0.2.1", trusted), ip("203.0.113.9")));
  EXPECT_TRUE(same(client_address(proxy, "203.0.113.9", trusted), ip("203.0.113.9")));
  EXPECT_TRUE(same(client_address(proxy, " 2001:db8::7 ", trusted), ip("2001:db8::7")));
  EXPECT_TRUE(same(client_address(proxy, "::ffff:203.0.113.9", trusted), ip("203.0.113.9")));
  // No header: the proxy itself is all we know.
  EXPECT_TRUE(same(client_address(proxy, "", trusted), ip("10.0.0.2")));
  // Only proxies listed: the left-most one.
  EXPECT_TRUE(same(client_address(proxy, "10.0.0.9, 192.0.2.1", trusted), ip("10.0.0.9")));
  // Garbage ends the walk at the proxy that passed it on.
  EXPECT_TRUE(same(client_address(proxy, "203.0.113.9, garbage", trusted), ip("10.0.0.2")));
  EXPECT_TRUE(same(client_address(proxy, "203.0.113.9, junk, 10.0.0.7", trusted), ip("10.0.0.7")));
}

TEST(AddressRateLimiter, BurstThenTheSustainedRatePerAddress) {
  address_rate_limiter limiter(2, 3, 100);
  const auto t0 = address_rate_limiter::clock::time_point{} + 1h;
  const auto a = ip("198.51.100.4");
  for (int i = 0; i < 3; ++i) EXPECT_FALSE(limiter.acquire(a, t0)) << i;
  const auto wait = limiter.acquire(a, t0);
  ASSERT_TRUE(wait);
  EXPECT_EQ(*wait, 1s);  // Retry-After is at least a second
  // Another address has its own bucket.
  EXPECT_FALSE(limiter.acquire(ip("198.51.100.5"), t0));
  // Half a second at 2/s gives one token back, not more.
  EXPECT_FALSE(limiter.acquire(a, t0 + 500ms));
  EXPECT_TRUE(limiter.acquire(a, t0 + 500ms));
}

TEST(AddressRateLimiter, RetryAfterCoversTheWaitForOneToken) {
  address_rate_limiter limiter(0.25, 1, 100);  // one every four seconds
  const auto t0 = address_rate_limiter::clock::time_point{} + 1h;
  const auto a = ip("198.51.100.4");
  EXPECT_FALSE(limiter.acquire(a, t0));
  const auto wait = limiter.acquire(a, t0);
  ASSERT_TRUE(wait);
  EXPECT_EQ(*wait, 4s);
  EXPECT_TRUE(limiter.acquire(a, t0 + 3s));
  EXPECT_FALSE(limiter.acquire(a, t0 + 4s));
}

TEST(AddressRateLimiter, IPv6CountsPerSlash64) {
  address_rate_limiter limiter(1, 1, 100);
  const auto t0 = address_rate_limiter::clock::time_point{} + 1h;
  EXPECT_FALSE(limiter.acquire(ip("2001:db8:1:2::1"), t0));
  EXPECT_TRUE(limiter.acquire(ip("2001:db8:1:2:ffff::9"), t0));  // same /64
  EXPECT_FALSE(limiter.acquire(ip("2001:db8:1:3::1"), t0));      // another /64
}

TEST(AddressRateLimiter, TheTableIsBoundedAndRefilledEntriesAreSwept) {
  address_rate_limiter limiter(1, 2, 3);
  const auto t0 = address_rate_limiter::clock::time_point{} + 1h;
  for (int i = 1; i <= 3; ++i) {
    EXPECT_FALSE(limiter.acquire(ip(("198.51.100." + std::to_string(i)).c_str()), t0));
  }
  EXPECT_EQ(limiter.tracked(), 3u);
  // Past the cap, new addresses share one bucket: the limit still holds for them.
  EXPECT_FALSE(limiter.acquire(ip("203.0.113.1"), t0));
  EXPECT_FALSE(limiter.acquire(ip("203.0.113.2"), t0));
  EXPECT_TRUE(limiter.acquire(ip("203.0.113.3"), t0));
  EXPECT_EQ(limiter.tracked(), 3u);
  // Once their buckets are full again the entries go, and a new address gets its own.
  EXPECT_FALSE(limiter.acquire(ip("203.0.113.4"), t0 + 5s));
  EXPECT_EQ(limiter.tracked(), 1u);
  // An address that is still limited is not swept (sweeping must not reset a limit).
  for (int i = 0; i < 2; ++i) (void)limiter.acquire(ip("198.51.100.9"), t0 + 5s);
  EXPECT_TRUE(limiter.acquire(ip("198.51.100.9"), t0 + 5s));
  EXPECT_TRUE(limiter.acquire(ip("198.51.100.9"), t0 + 5s + 500ms));
  EXPECT_EQ(limiter.tracked(), 2u);
}

}  // namespace
