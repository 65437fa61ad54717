#include "preview/url.hpp"

#include "config/host_port.hpp"
#include "preview/ascii.hpp"

#include <algorithm>
#include <charconv>

namespace chat::chatd::preview {
namespace {

constexpr char hex_upper[] = "0123456789ABCDEF";

bool is_alnum_ascii(char c) noexcept {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

bool is_control_or_space(char c) noexcept { return static_cast<unsigned char>(c) <= 0x20 || c == 0x7F; }

// A request target: path and query without the fragment, bytes past ASCII percent-encoded
// (a message may carry an IRI), "/" when empty.
chat::expected<std::string, refusal> clean_target(std::string_view rest) {
  if (const auto hash = rest.find('#'); hash != std::string_view::npos) rest = rest.substr(0, hash);
  std::string out;
  if (rest.empty() || rest.front() != '/') out.push_back('/');
  for (const char c : rest) {
    if (is_control_or_space(c)) return chat::unexpected(refusal::bad_url);
    const auto u = static_cast<unsigned char>(c);
    if (u >= 0x80) {
      out.push_back('%');
      out.push_back(hex_upper[u >> 4]);
      out.push_back(hex_upper[u & 0x0F]);
    } else {
      out.push_back(c);
    }
  }
  return out;
}

}  // namespace

std::string url::authority() const {
  std::string out = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  if (!default_port()) out += ":" + std::to_string(port);
  return out;
}

std::string url::text() const { return (https ? "https://" : "http://") + authority() + target; }

chat::expected<url, refusal> parse_url(std::string_view text) {
  if (text.size() > max_url_bytes) return chat::unexpected(refusal::bad_url);
  const auto sep = text.find("://");
  if (sep == std::string_view::npos || sep == 0) return chat::unexpected(refusal::bad_url);
  url out;
  const std::string_view scheme = text.substr(0, sep);
  if (ascii::equals_nocase(scheme, "https")) {
    out.https = true;
  } else if (!ascii::equals_nocase(scheme, "http")) {
    for (const char c : scheme) {
      if (!is_alnum_ascii(c) && c != '+' && c != '-' && c != '.') return chat::unexpected(refusal::bad_url);
    }
    return chat::unexpected(refusal::scheme);
  }
  std::string_view rest = text.substr(sep + 3);
  const auto end = std::min(rest.find_first_of("/?#"), rest.size());
  const std::string_view authority = rest.substr(0, end);
  rest.remove_prefix(end);
  if (authority.find('@') != std::string_view::npos) return chat::unexpected(refusal::bad_url);
  for (const char c : authority) {
    if (is_control_or_space(c) || static_cast<unsigned char>(c) >= 0x80) return chat::unexpected(refusal::bad_url);
  }

  std::string_view host = authority;
  std::string_view port;
  bool has_port = false;
  if (authority.starts_with('[')) {
    const auto close = authority.find(']');
    if (close == std::string_view::npos) return chat::unexpected(refusal::bad_url);
    host = authority.substr(1, close - 1);
    const auto after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return chat::unexpected(refusal::bad_url);
      port = after.substr(1);
      has_port = true;
    }
    if (host.find(':') == std::string_view::npos) return chat::unexpected(refusal::bad_url);  // [v6] only
  } else if (const auto colon = authority.find(':'); colon != std::string_view::npos) {
    host = authority.substr(0, colon);
    port = authority.substr(colon + 1);
    has_port = true;
  }
  auto normal = normalize_host(host);
  if (!normal) return chat::unexpected(refusal::bad_url);
  out.host = std::move(*normal);
  out.port = out.https ? 443 : 80;
  if (has_port && !port.empty()) {
    unsigned value = 0;
    const auto [p, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (ec != std::errc{} || p != port.data() + port.size() || value == 0 || value > 65535) {
      return chat::unexpected(refusal::bad_url);
    }
    out.port = static_cast<std::uint16_t>(value);
  }
  auto target = clean_target(rest);
  if (!target) return chat::unexpected(target.error());
  out.target = std::move(*target);
  return out;
}

chat::expected<url, refusal> resolve_location(const url& base, std::string_view location) {
  while (!location.empty() && (location.front() == ' ' || location.front() == '\t')) location.remove_prefix(1);
  while (!location.empty() && (location.back() == ' ' || location.back() == '\t')) location.remove_suffix(1);
  if (location.empty() || location.size() > max_url_bytes) return chat::unexpected(refusal::bad_url);
  if (location.starts_with("//"))
    return parse_url(std::string(base.https ? "https:" : "http:") + std::string(location));
  // A scheme: letters, digits, + - . before the first ':' that comes before any / ? #.
  const auto colon = location.find(':');
  if (colon != std::string_view::npos && colon < location.find_first_of("/?#") && colon > 0) {
    return parse_url(location);
  }
  url out = base;
  std::string path;
  if (location.front() == '/') {
    path = std::string(location);
  } else {
    std::string_view dir = base.target;
    dir = dir.substr(0, std::min(dir.find('?'), dir.size()));
    if (location.front() == '?') {
      path = std::string(dir) + std::string(location);
    } else {
      path = std::string(dir.substr(0, dir.rfind('/') + 1)) + std::string(location);
    }
  }
  auto target = clean_target(path);
  if (!target) return chat::unexpected(target.error());
  out.target = std::move(*target);
  return out;
}

bool may_hold_url(std::string_view bytes) noexcept {
  return ascii::find_nocase(bytes, "http") != std::string_view::npos;
}

std::optional<std::string> first_url(std::string_view text) {
  for (std::size_t from = 0; from < text.size();) {
    std::size_t at = std::string_view::npos;
    for (std::size_t i = from; i + 7 <= text.size(); ++i) {
      if (ascii::lower(text[i]) == 'h' && (ascii::starts_with_nocase(text.substr(i), "http://") ||
                                           ascii::starts_with_nocase(text.substr(i), "https://"))) {
        at = i;
        break;
      }
    }
    if (at == std::string_view::npos) return std::nullopt;
    if (at > 0 && is_alnum_ascii(text[at - 1])) {  // "xhttp://…" is not one
      from = at + 1;
      continue;
    }
    std::size_t end = at;
    while (end < text.size()) {
      const char c = text[end];
      if (is_control_or_space(c) || c == '<' || c == '>' || c == '"' || c == '`') break;
      ++end;
    }
    std::string_view candidate = text.substr(at, end - at);
    for (;;) {
      if (candidate.empty()) break;
      const char last = candidate.back();
      auto unbalanced = [candidate](char open, char close) {
        return std::count(candidate.begin(), candidate.end(), close) >
               std::count(candidate.begin(), candidate.end(), open);
      };
      if (last == '.' || last == ',' || last == ';' || last == ':' || last == '!' || last == '?' || last == '\'' ||
          (last == ')' && unbalanced('(', ')')) || (last == ']' && unbalanced('[', ']')) ||
          (last == '}' && unbalanced('{', '}'))) {
        candidate.remove_suffix(1);
        continue;
      }
      break;
    }
    const std::size_t scheme_length = ascii::starts_with_nocase(candidate, "https://") ? 8 : 7;
    if (candidate.size() <= scheme_length) {  // "http://" and nothing after it
      from = end;
      continue;
    }
    if (candidate.size() > max_url_bytes) return std::nullopt;
    return std::string(candidate);
  }
  return std::nullopt;
}

}  // namespace chat::chatd::preview
