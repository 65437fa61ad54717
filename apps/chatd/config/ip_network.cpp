#include "config/ip_network.hpp"

#include <arpa/inet.h>

#include <charconv>

namespace chat::chatd {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

bool ip_network::contains(const ip_bytes& address) const {
  if (address.v6 != base.v6) return false;
  const int full = prefix / 8;
  for (int i = 0; i < full; ++i) {
    if (address.bytes[i] != base.bytes[i]) return false;
  }
  const int rest = prefix % 8;
  if (rest == 0) return true;
  const auto mask = static_cast<unsigned char>(0xff << (8 - rest));
  return (address.bytes[full] & mask) == base.bytes[full];
}

std::optional<ip_bytes> parse_ip(std::string_view text) {
  // inet_pton needs a terminated string; longer text cannot be an address anyway.
  if (text.empty() || text.size() >= INET6_ADDRSTRLEN) return std::nullopt;
  char buf[INET6_ADDRSTRLEN] = {};
  text.copy(buf, text.size());
  ip_bytes out;
  if (inet_pton(AF_INET, buf, out.bytes.data()) == 1) return out;
  if (inet_pton(AF_INET6, buf, out.bytes.data()) == 1) {
    out.v6 = true;
    return out;
  }
  return std::nullopt;
}

std::optional<ip_network> parse_ip_network(std::string_view text) {
  text = trim(text);
  const auto slash = text.find('/');
  auto address = parse_ip(text.substr(0, slash));
  if (!address) return std::nullopt;
  const int max_prefix = address->v6 ? 128 : 32;
  ip_network net{*address, max_prefix};
  if (slash != std::string_view::npos) {
    const auto digits = text.substr(slash + 1);
    const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), net.prefix);
    if (digits.empty() || ec != std::errc{} || end != digits.data() + digits.size() || net.prefix < 0 ||
        net.prefix > max_prefix) {
      return std::nullopt;
    }
  }
  for (int bit = net.prefix; bit < max_prefix; ++bit) {
    net.base.bytes[bit / 8] = static_cast<unsigned char>(net.base.bytes[bit / 8] & ~(0x80 >> (bit % 8)));
  }
  return net;
}

std::optional<std::vector<ip_network>> parse_ip_networks(std::string_view list, std::string& bad) {
  std::vector<ip_network> out;
  if (trim(list).empty()) return out;
  for (;;) {
    const auto comma = list.find(',');
    const auto entry = trim(list.substr(0, comma));
    auto net = parse_ip_network(entry);
    if (!net) {
      bad = std::string(entry);
      return std::nullopt;
    }
    out.push_back(*net);
    if (comma == std::string_view::npos) return out;
    list.remove_prefix(comma + 1);
  }
}

}  // namespace chat::chatd
