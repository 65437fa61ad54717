#include <chat/stomp/negotiation.hpp>

#include <algorithm>
#include <charconv>

namespace chat::stomp {
namespace {

std::string_view trim_spaces(std::string_view s) noexcept {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::optional<version> parse_version(std::string_view s) noexcept {
  if (s == "1.0") return version::v1_0;
  if (s == "1.1") return version::v1_1;
  if (s == "1.2") return version::v1_2;
  return std::nullopt;
}

// Digits only (no sign, no spaces), non-empty, fits 32 bits.
std::optional<std::uint32_t> parse_interval(std::string_view s) noexcept {
  if (s.empty()) return std::nullopt;
  std::uint32_t value = 0;
  const auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (ec != std::errc{} || ptr != s.data() + s.size()) return std::nullopt;
  return value;
}

}  // namespace

std::string_view to_string(version v) noexcept {
  switch (v) {
    case version::v1_0: return "1.0";
    case version::v1_1: return "1.1";
    case version::v1_2: return "1.2";
  }
  return "?";  // unreachable for valid enumerators
}

std::optional<version> negotiate_version(std::optional<std::string_view> accept_version) noexcept {
  if (!accept_version) return version::v1_0;
  std::optional<version> best;
  std::string_view rest = *accept_version;
  while (true) {
    const auto comma = rest.find(',');
    if (const auto v = parse_version(trim_spaces(rest.substr(0, comma)))) {
      best = best ? std::max(*best, *v) : *v;
    }
    if (comma == std::string_view::npos) break;
    rest.remove_prefix(comma + 1);
  }
  return best;
}

std::optional<heart_beat> parse_heart_beat(std::string_view text) noexcept {
  const auto comma = text.find(',');
  if (comma == std::string_view::npos) return std::nullopt;
  // from_chars accepts a leading '-' for signed types only; uint32_t rejects it, and
  // parse_interval rejects '+' and spaces because from_chars does.
  const auto cx = parse_interval(text.substr(0, comma));
  const auto cy = parse_interval(text.substr(comma + 1));
  if (!cx || !cy) return std::nullopt;
  return heart_beat{*cx, *cy};
}

heart_beat_plan negotiate_heart_beat(heart_beat client, heart_beat server) noexcept {
  const auto direction = [](std::uint32_t can_send, std::uint32_t wants) -> std::uint32_t {
    return (can_send == 0 || wants == 0) ? 0 : std::max(can_send, wants);
  };
  return heart_beat_plan{
      .send_every_ms = direction(server.cx, client.cy),
      .expect_every_ms = direction(client.cx, server.cy),
  };
}

}  // namespace chat::stomp
