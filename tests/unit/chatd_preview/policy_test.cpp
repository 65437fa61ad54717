// What a link preview may fetch (SPEC §16), decided by vet() with an injected resolver: the
// fake answers each name with the addresses a hostile DNS could give, and counts its lookups.
#include "preview/policy.hpp"

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

namespace chat::chatd::preview {
namespace {

struct fake_dns {
  std::map<std::string, std::vector<std::string>> names;
  std::vector<std::string> asked;

  resolver get() {
    return [this](const std::string& host) {
      asked.push_back(host);
      resolution r;
      const auto it = names.find(host);
      if (it == names.end()) {
        r.error = "Host not found";
        return r;
      }
      for (const auto& a : it->second) r.addresses.push_back(*parse_ip(a));
      return r;
    };
  }
};

url parsed(const std::string& text) {
  auto u = parse_url(text);
  EXPECT_TRUE(u) << text;
  return u ? *u : url{};
}

vetted vet_text(const std::string& text, const fetch_policy& policy, fake_dns& dns) {
  return vet(parsed(text), policy, dns.get());
}

TEST(PreviewPolicy, LoopbackIsRefusedByNameAndByEverySpelling) {
  fake_dns dns;
  dns.names["localhost"] = {"93.184.215.14"};  // a lying resolver is not even asked
  dns.names["loop.example"] = {"127.0.0.1", "::1"};
  const fetch_policy policy;
  for (const char* text : {"http://localhost/", "http://LOCALHOST./", "https://api.localhost/"}) {
    EXPECT_EQ(vet_text(text, policy, dns).refused, refusal::loopback) << text;
  }
  EXPECT_TRUE(dns.asked.empty()) << "localhost is loopback without a lookup (RFC 6761)";
  EXPECT_EQ(vet_text("http://loop.example/", policy, dns).refused, refusal::loopback);
  EXPECT_EQ(dns.asked, std::vector<std::string>{"loop.example"});
  for (const char* text : {"http://127.0.0.1/", "http://[::1]/", "http://[::ffff:127.0.0.1]/", "https://127.1.2.3/",
                           "http://[0:0:0:0:0:ffff:7f00:1]:80/x"}) {
    EXPECT_EQ(vet_text(text, policy, dns).refused, refusal::loopback) << text;
  }
  EXPECT_EQ(dns.asked.size(), 1u) << "an address literal needs no lookup";
}

TEST(PreviewPolicy, PrivateLinkLocalAndUniqueLocalNamesAreRefused) {
  fake_dns dns;
  dns.names["intranet.example"] = {"10.1.2.3"};
  dns.names["metadata.example"] = {"169.254.169.254"};
  dns.names["ula.example"] = {"fd00::5"};
  dns.names["mapped.example"] = {"::ffff:192.168.1.1"};
  const fetch_policy policy;
  EXPECT_EQ(vet_text("http://intranet.example/", policy, dns).refused, refusal::private_net);
  EXPECT_EQ(vet_text("http://metadata.example/latest/meta-data/", policy, dns).refused, refusal::link_local);
  EXPECT_EQ(vet_text("https://ula.example/", policy, dns).refused, refusal::unique_local);
  EXPECT_EQ(vet_text("https://mapped.example/", policy, dns).refused, refusal::private_net);
  EXPECT_EQ(vet_text("http://[fe80::1]/", policy, dns).refused, refusal::link_local);
  EXPECT_EQ(vet_text("http://172.16.0.1/", policy, dns).refused, refusal::private_net);
  EXPECT_EQ(vet_text("http://0.0.0.0/", policy, dns).refused, refusal::unspecified);
  EXPECT_EQ(vet_text("http://239.1.2.3/", policy, dns).refused, refusal::multicast);
}

TEST(PreviewPolicy, ANameWithOneGoodAndOneBadAddressIsRefused) {
  fake_dns dns;
  dns.names["rebind.example"] = {"93.184.215.14", "127.0.0.1"};
  const auto v = vet_text("http://rebind.example/", fetch_policy{}, dns);
  EXPECT_EQ(v.refused, refusal::loopback);
  EXPECT_TRUE(v.addresses.empty());
}

TEST(PreviewPolicy, APublicNameIsAllowedWithTheAddressesItWasCheckedWith) {
  fake_dns dns;
  dns.names["example.com"] = {"93.184.215.14", "2606:2800:21f:cb07:6820:80da:af6b:8b2c", "::ffff:93.184.215.15"};
  const auto v = vet_text("https://Example.COM./page", fetch_policy{}, dns);
  ASSERT_TRUE(v.ok()) << (v.refused ? to_string(*v.refused) : v.failed);
  EXPECT_FALSE(v.exempt);
  ASSERT_EQ(v.addresses.size(), 3u);
  EXPECT_FALSE(v.addresses[0].v6);
  EXPECT_TRUE(v.addresses[1].v6);
  EXPECT_FALSE(v.addresses[2].v6) << "an IPv4-mapped address is connected to as IPv4";
  EXPECT_EQ(v.addresses[2].bytes[3], 15);
  EXPECT_EQ(dns.asked, std::vector<std::string>{"example.com"});
  EXPECT_TRUE(vet_text("http://93.184.215.14/", fetch_policy{}, dns).ok());
}

TEST(PreviewPolicy, OnlyTheConfiguredPortsAndNoLookupForAnother) {
  fake_dns dns;
  dns.names["example.com"] = {"93.184.215.14"};
  fetch_policy policy;
  EXPECT_EQ(vet_text("http://example.com:8080/", policy, dns).refused, refusal::port);
  EXPECT_EQ(vet_text("https://example.com:22/", policy, dns).refused, refusal::port);
  EXPECT_TRUE(dns.asked.empty()) << "the port is refused before any lookup";
  EXPECT_TRUE(vet_text("https://example.com:443/", policy, dns).ok());
  EXPECT_TRUE(vet_text("http://example.com:443/", policy, dns).ok());
  policy.ports = {8080};
  EXPECT_TRUE(vet_text("http://example.com:8080/", policy, dns).ok());
  EXPECT_EQ(vet_text("http://example.com/", policy, dns).refused, refusal::port);
}

TEST(PreviewPolicy, AllowedHostsSkipTheAddressCheckOnlyForWhatTheyName) {
  fake_dns dns;
  dns.names["wiki.corp"] = {"10.0.0.7"};
  dns.names["localhost"] = {"127.0.0.1"};
  fetch_policy policy;
  policy.allow_hosts = {{"127.0.0.1", 8081}, {"wiki.corp", std::nullopt}, {"localhost", 8090}};
  // An entry with a port: that host on that port, the port admitted too.
  auto v = vet_text("http://127.0.0.1:8081/page", policy, dns);
  EXPECT_TRUE(v.ok());
  EXPECT_TRUE(v.exempt);
  EXPECT_EQ(vet_text("http://127.0.0.1:8082/", policy, dns).refused, refusal::port);
  EXPECT_EQ(vet_text("http://127.0.0.1/", policy, dns).refused, refusal::loopback);
  // By name, not by address: another name of the same address is checked.
  EXPECT_EQ(vet_text("http://localhost:8081/", policy, dns).refused, refusal::port);
  EXPECT_EQ(vet_text("http://localhost/", policy, dns).refused, refusal::loopback);
  EXPECT_EQ(vet_text("http://[::ffff:127.0.0.1]:8081/", policy, dns).refused, refusal::port);
  // An entry without a port: any listed port, the address check skipped.
  v = vet_text("https://WIKI.corp/start", policy, dns);
  EXPECT_TRUE(v.ok());
  EXPECT_TRUE(v.exempt);
  EXPECT_EQ(vet_text("http://wiki.corp:8443/", policy, dns).refused, refusal::port);
  // An allowed localhost is looked up like any allowed name.
  dns.asked.clear();
  v = vet_text("http://localhost:8090/", policy, dns);
  EXPECT_TRUE(v.ok());
  EXPECT_EQ(dns.asked, std::vector<std::string>{"localhost"});
}

TEST(PreviewPolicy, AllowHostsOnlyRefusesEveryOtherHostWithoutALookup) {
  fake_dns dns;
  dns.names["example.com"] = {"93.184.215.14"};
  dns.names["test.local"] = {"127.0.0.1"};
  fetch_policy policy;
  policy.allow_hosts_only = true;
  EXPECT_EQ(vet_text("https://example.com/", policy, dns).refused, refusal::not_allowed);
  EXPECT_EQ(vet_text("http://8.8.8.8/", policy, dns).refused, refusal::not_allowed);
  EXPECT_TRUE(dns.asked.empty());
  policy.allow_hosts = {{"test.local", 8080}};
  EXPECT_TRUE(vet_text("http://test.local:8080/", policy, dns).ok());
  EXPECT_EQ(vet_text("http://test.local:8081/", policy, dns).refused, refusal::not_allowed);
}

TEST(PreviewPolicy, AFailedLookupIsAFailureNotARefusal) {
  fake_dns dns;
  dns.names["empty.example"] = {};
  auto v = vet_text("http://nowhere.example/", fetch_policy{}, dns);
  EXPECT_FALSE(v.refused);
  EXPECT_EQ(v.failed, "Host not found");
  v = vet_text("http://empty.example/", fetch_policy{}, dns);
  EXPECT_FALSE(v.refused);
  EXPECT_EQ(v.failed, "no address");
}

}  // namespace
}  // namespace chat::chatd::preview
