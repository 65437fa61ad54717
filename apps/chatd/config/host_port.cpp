#include "config/host_port.hpp"

#include "config/ip_network.hpp"

#include <arpa/inet.h>

#include <charconv>

namespace chat::chatd {
namespace {

std::string_view trim_blanks(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::optional<std::uint16_t> parse_port(std::string_view digits) {
  unsigned value = 0;
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (digits.empty() || ec != std::errc{} || end != digits.data() + digits.size() || value == 0 || value > 65535) {
    return std::nullopt;
  }
  return static_cast<std::uint16_t>(value);
}

bool is_label_char(char c) noexcept { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_'; }

}  // namespace

std::optional<std::string> normalize_host(std::string_view host) {
  if (host.empty() || host.size() > 254) return std::nullopt;
  if (const auto ip = parse_ip(host)) {
    char text[INET6_ADDRSTRLEN] = {};
    if (inet_ntop(ip->v6 ? AF_INET6 : AF_INET, ip->bytes.data(), text, sizeof text) == nullptr) return std::nullopt;
    return std::string(text);
  }
  std::string name(host);
  if (name.back() == '.') name.pop_back();
  if (name.empty() || name.size() > 253) return std::nullopt;
  std::size_t label = 0;
  for (char& c : name) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c == '.') {
      if (label == 0) return std::nullopt;
      label = 0;
      continue;
    }
    if (!is_label_char(c) || ++label > 63) return std::nullopt;
  }
  if (label == 0) return std::nullopt;
  return name;
}

std::optional<host_port> parse_host_port(std::string_view text) {
  text = trim_blanks(text);
  host_port out;
  std::string_view host = text;
  if (text.starts_with('[')) {
    const auto close = text.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    host = text.substr(1, close - 1);
    const auto rest = text.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':' || !(out.port = parse_port(rest.substr(1)))) return std::nullopt;
    }
    const auto ip = parse_ip(host);
    if (!ip || !ip->v6) return std::nullopt;
  } else if (const auto colon = text.find(':');
             colon != std::string_view::npos && text.find(':', colon + 1) == std::string_view::npos) {
    // One colon: host:port. More: a bare IPv6 address, which carries no port.
    host = text.substr(0, colon);
    if (!(out.port = parse_port(text.substr(colon + 1)))) return std::nullopt;
  }
  auto normal = normalize_host(host);
  if (!normal) return std::nullopt;
  out.host = std::move(*normal);
  return out;
}

std::optional<std::vector<host_port>> parse_host_port_list(std::string_view list, std::string& bad) {
  std::vector<host_port> out;
  if (trim_blanks(list).empty()) return out;
  for (;;) {
    const auto comma = list.find(',');
    const auto entry = trim_blanks(list.substr(0, comma));
    auto parsed = parse_host_port(entry);
    if (!parsed) {
      bad = std::string(entry);
      return std::nullopt;
    }
    out.push_back(std::move(*parsed));
    if (comma == std::string_view::npos) return out;
    list.remove_prefix(comma + 1);
  }
}

std::optional<std::vector<std::uint16_t>> parse_port_list(std::string_view list, std::string& bad) {
  std::vector<std::uint16_t> out;
  for (;;) {
    const auto comma = list.find(',');
    const auto entry = trim_blanks(list.substr(0, comma));
    const auto port = parse_port(entry);
    if (!port) {
      bad = std::string(entry);
      return std::nullopt;
    }
    out.push_back(*port);
    if (comma == std::string_view::npos) return out;
    list.remove_prefix(comma + 1);
  }
}

}  // namespace chat::chatd
