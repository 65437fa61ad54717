// The address check of link previews (SPEC §16): every range a fetch must never reach, by the
// reason it is refused for, and the public addresses it must still reach. Pure: addresses only.
#include "preview/address_check.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace chat::chatd::preview {
namespace {

ip_bytes ip(const std::string& text) {
  const auto parsed = parse_ip(text);
  EXPECT_TRUE(parsed.has_value()) << text;
  return parsed.value_or(ip_bytes{});
}

std::optional<refusal> check(const std::string& text) { return check_address(ip(text)); }

TEST(AddressCheck, RefusesEveryRangeThatIsNotPublicUnicast) {
  const std::vector<std::pair<std::string, refusal>> cases = {
      // loopback, IPv4 and IPv6, and IPv4 loopback carried by IPv6 forms
      {"127.0.0.1", refusal::loopback},
      {"127.255.255.254", refusal::loopback},
      {"::1", refusal::loopback},
      {"::ffff:127.0.0.1", refusal::loopback},  // IPv4-mapped
      {"::127.0.0.1", refusal::loopback},       // IPv4-compatible (deprecated)
      {"64:ff9b::7f00:1", refusal::loopback},   // NAT64 of 127.0.0.1
      {"2002:7f00:1::1", refusal::loopback},    // 6to4 of 127.0.0.1
      // RFC 1918 and CGNAT, and their mapped forms
      {"10.0.0.1", refusal::private_net},
      {"10.255.255.255", refusal::private_net},
      {"172.16.0.1", refusal::private_net},
      {"172.31.255.255", refusal::private_net},
      {"192.168.1.1", refusal::private_net},
      {"100.64.0.1", refusal::private_net},
      {"100.127.255.255", refusal::private_net},
      {"::ffff:10.0.0.1", refusal::private_net},
      {"::ffff:192.168.0.10", refusal::private_net},
      {"2002:c0a8:101::1", refusal::private_net},  // 6to4 of 192.168.1.1
      {"fec0::1", refusal::private_net},           // site-local (deprecated)
      // link-local: the cloud metadata address above all
      {"169.254.169.254", refusal::link_local},
      {"::ffff:169.254.169.254", refusal::link_local},
      {"fe80::1", refusal::link_local},
      {"febf::1", refusal::link_local},
      // IPv6 unique local addresses
      {"fc00::1", refusal::unique_local},
      {"fd12:3456:789a::1", refusal::unique_local},
      // multicast, unspecified, broadcast and reserved
      {"224.0.0.1", refusal::multicast},
      {"239.255.255.250", refusal::multicast},
      {"ff02::1", refusal::multicast},
      {"::ffff:224.0.0.251", refusal::multicast},
      {"0.0.0.0", refusal::unspecified},
      {"0.1.2.3", refusal::unspecified},
      {"::", refusal::unspecified},
      {"::ffff:0.0.0.0", refusal::unspecified},
      {"255.255.255.255", refusal::reserved},
      {"240.0.0.1", refusal::reserved},
      {"192.0.0.8", refusal::reserved},
      {"198.18.0.1", refusal::reserved},
      {"198.19.255.255", refusal::reserved},
      {"192.88.99.1", refusal::reserved},
      {"::8.8.8.8", refusal::reserved},      // IPv4-compatible: no web server has one
      {"2001::1", refusal::reserved},        // Teredo
      {"2001:2::1", refusal::reserved},      // benchmarking
      {"64:ff9b:1::1", refusal::reserved},   // local-use NAT64
      {"100::1", refusal::reserved},         // discard
      {"5f00::1", refusal::reserved},        // outside 2000::/3
      {"::ffff:1:2", refusal::unspecified},  // ::ffff:0.1.0.2
      // documentation ranges
      {"192.0.2.1", refusal::documentation},
      {"198.51.100.7", refusal::documentation},
      {"203.0.113.200", refusal::documentation},
      {"2001:db8::1", refusal::documentation},
      {"3fff::1", refusal::documentation},
  };
  for (const auto& [text, expected] : cases) {
    const auto got = check(text);
    ASSERT_TRUE(got.has_value()) << text << " was allowed";
    EXPECT_EQ(*got, expected) << text << ": " << to_string(*got) << " instead of " << to_string(expected);
  }
}

TEST(AddressCheck, AllowsPublicAddresses) {
  for (const char* text : {"93.184.215.14",
                           "8.8.8.8",
                           "1.1.1.1",
                           "11.0.0.1",
                           "172.15.255.255",
                           "172.32.0.1",
                           "100.63.255.255",
                           "100.128.0.1",
                           "169.253.255.255",
                           "169.255.0.1",
                           "192.167.0.1",
                           "192.169.0.1",
                           "198.17.0.1",
                           "198.20.0.1",
                           "223.255.255.255",
                           "::ffff:93.184.215.14",
                           "64:ff9b::808:808",
                           "2002:808:808::1",
                           "2606:4700:4700::1111",
                           "2a00:1450:4001:82b::200e",
                           "2001:4860:4860::8888"}) {
    const auto got = check(text);
    EXPECT_FALSE(got.has_value()) << text << " refused as " << to_string(*got);
  }
}

TEST(AddressCheck, OneBadAddressRefusesThemAll) {
  const std::vector<ip_bytes> good_then_bad{ip("93.184.215.14"), ip("10.0.0.5")};
  EXPECT_EQ(check_addresses(good_then_bad), refusal::private_net);
  const std::vector<ip_bytes> bad_then_good{ip("::1"), ip("2606:4700:4700::1111")};
  EXPECT_EQ(check_addresses(bad_then_good), refusal::loopback);
  const std::vector<ip_bytes> good{ip("93.184.215.14"), ip("2606:4700:4700::1111")};
  EXPECT_EQ(check_addresses(good), std::nullopt);
  EXPECT_EQ(check_addresses({}), std::nullopt);  // no address: the caller's failure, not a refusal
}

TEST(AddressCheck, ReasonsHaveStableMetricNames) {
  EXPECT_EQ(to_string(refusal::private_net), "private");
  EXPECT_EQ(to_string(refusal::link_local), "link_local");
  EXPECT_EQ(to_string(refusal::too_large), "too_large");
  for (const auto r : all_refusals) EXPECT_FALSE(to_string(r).empty());
}

}  // namespace
}  // namespace chat::chatd::preview
