#include <chat/client/url.hpp>

#include <charconv>

namespace chat::client {
namespace {

bool fail(std::string* why, std::string message) {
  if (why != nullptr) *why = std::move(message);
  return false;
}

bool valid_host_char(char c) noexcept {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_';
}

bool valid_path_char(char c) noexcept {
  // Printable ASCII except space, '#' (fragments are not sent) and '\\'.
  return c > 0x20 && c < 0x7f && c != '#' && c != '\\';
}

std::uint16_t default_port(scheme s) noexcept {
  switch (s) {
    case scheme::http:
    case scheme::ws: return 80;
    case scheme::tcp: return 61613;
  }
  return 0;
}

std::string_view scheme_name(scheme s) noexcept {
  switch (s) {
    case scheme::http: return "http";
    case scheme::ws: return "ws";
    case scheme::tcp: return "tcp";
  }
  return "";
}

bool parse_authority(std::string_view authority, url& out, std::string* why) {
  if (authority.find('@') != std::string_view::npos) return fail(why, "user information in URLs is not supported");
  std::string_view host;
  std::string_view port_text;
  bool have_port = false;
  if (authority.starts_with('[')) {
    const auto close = authority.find(']');
    if (close == std::string_view::npos) return fail(why, "unterminated IPv6 address");
    host = authority.substr(1, close - 1);
    if (host.empty()) return fail(why, "empty IPv6 address");
    for (const char c : host) {
      const bool hex = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
      if (!hex && c != ':' && c != '.') return fail(why, "bad character in IPv6 address");
    }
    const auto rest = authority.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return fail(why, "unexpected text after the IPv6 address");
      port_text = rest.substr(1);
      have_port = true;
    }
  } else {
    const auto colon = authority.rfind(':');
    if (colon != std::string_view::npos) {
      host = authority.substr(0, colon);
      port_text = authority.substr(colon + 1);
      have_port = true;
    } else {
      host = authority;
    }
    if (host.empty()) return fail(why, "the URL has no host");
    for (const char c : host) {
      if (!valid_host_char(c)) return fail(why, "bad character in host name");
    }
  }
  out.host.assign(host);
  out.port = default_port(out.kind);
  if (have_port) {
    unsigned value = 0;
    const auto* first = port_text.data();
    const auto* last = first + port_text.size();
    const auto [end, ec] = std::from_chars(first, last, value);
    if (port_text.empty() || ec != std::errc{} || end != last || value == 0 || value > 65535) {
      return fail(why, "the port must be a number from 1 to 65535");
    }
    out.port = static_cast<std::uint16_t>(value);
  }
  return true;
}

}  // namespace

std::optional<url> parse_url(std::string_view text, std::string* why) {
  const auto sep = text.find("://");
  if (sep == std::string_view::npos) {
    fail(why, "expected scheme://host[:port], e.g. http://127.0.0.1:8080");
    return std::nullopt;
  }
  std::string scheme_text(text.substr(0, sep));
  for (auto& c : scheme_text) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  url out;
  if (scheme_text == "http") {
    out.kind = scheme::http;
  } else if (scheme_text == "ws") {
    out.kind = scheme::ws;
  } else if (scheme_text == "tcp" || scheme_text == "stomp") {
    out.kind = scheme::tcp;
  } else if (scheme_text == "https" || scheme_text == "wss" || scheme_text == "stomp+ssl") {
    fail(why, "TLS (" + scheme_text + "://) is not supported; use http://, ws:// or tcp://");
    return std::nullopt;
  } else {
    fail(why, "unsupported scheme '" + scheme_text + "'; use http://, ws://, tcp:// or stomp://");
    return std::nullopt;
  }
  const auto rest = text.substr(sep + 3);
  const auto slash = rest.find_first_of("/?#");
  const auto authority = rest.substr(0, slash);
  if (!parse_authority(authority, out, why)) return std::nullopt;
  std::string_view path = slash == std::string_view::npos ? std::string_view{} : rest.substr(slash);
  if (path.starts_with('#')) path = {};
  if (const auto hash = path.find('#'); hash != std::string_view::npos) path = path.substr(0, hash);
  for (const char c : path) {
    if (!valid_path_char(c)) {
      fail(why, "bad character in the URL path");
      return std::nullopt;
    }
  }
  switch (out.kind) {
    case scheme::http:
      if (path.find('?') != std::string_view::npos) {
        fail(why, "a base URL cannot have a query");
        return std::nullopt;
      }
      while (path.ends_with('/')) path.remove_suffix(1);
      out.path.assign(path);
      break;
    case scheme::ws:
      // "ws://h:p" means "/", "ws://h:p?x" means "/?x".
      if (path.empty() || path.front() == '?') out.path.push_back('/');
      out.path.append(path);
      break;
    case scheme::tcp:
      if (!path.empty() && path != "/") {
        fail(why, "a tcp:// or stomp:// URL has no path");
        return std::nullopt;
      }
      break;
  }
  return out;
}

std::string host_port(const url& u) {
  std::string out;
  const bool v6 = u.host.find(':') != std::string::npos;
  if (v6) out.push_back('[');
  out += u.host;
  if (v6) out.push_back(']');
  out.push_back(':');
  out += std::to_string(u.port);
  return out;
}

std::string to_string(const url& u) {
  std::string out(scheme_name(u.kind));
  out += "://";
  out += host_port(u);
  out += u.path;
  return out;
}

url websocket_url_for(const url& http_base) {
  url out = http_base;
  out.kind = scheme::ws;
  out.path = http_base.path + "/ws";
  return out;
}

}  // namespace chat::client
