#pragma once
// The URLs a link preview fetches (SPEC §16): which one of a message, and how it (or a
// redirect's Location) reads. Pure, no I/O.
#include "preview/address_check.hpp"

#include <chat/common/expected.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace chat::chatd::preview {

// The longest URL taken from a message (longer ones get no preview).
inline constexpr std::size_t max_url_bytes = 2048;

// An absolute http(s) URL, as the fetcher uses it.
struct url {
  bool https = false;
  std::string host;        // normalize_host() (config/host_port.hpp): lower case, IPv6 without brackets
  std::uint16_t port = 0;  // the explicit one, else 80 or 443
  std::string target;      // path and query, "/" at least; the fragment is dropped

  bool default_port() const noexcept { return port == (https ? 443 : 80); }
  // The Host header: host, "[v6]", plus ":port" when not the scheme's default.
  std::string authority() const;
  // scheme://authority target
  std::string text() const;

  friend bool operator==(const url&, const url&) = default;
};

// Reads an absolute URL: "http" or "https" (either case), then "://", a host (a name, an IPv4
// address or a bracketed IPv6 one), an optional port, and the rest. Refused: another scheme
// (refusal::scheme), user info ("user:pw@host"), an empty or invalid host (names: ASCII labels
// only; IPv6 zone ids), a bad port, spaces or control characters (refusal::bad_url).
chat::expected<url, refusal> parse_url(std::string_view text);

// A redirect's Location against the URL that answered: absolute ("https://…"), scheme-relative
// ("//host/…"), an absolute path ("/a") or a relative one ("a", "../a"; resolved the simple way:
// against the base's directory, dot segments kept, the server normalises them).
chat::expected<url, refusal> resolve_location(const url& base, std::string_view location);

// The first http:// or https:// URL in a message's text (scheme in any case), nullopt when none:
// it starts at the scheme (which must not follow a letter or digit) and runs until whitespace, a
// control character or one of < > " ` ; trailing punctuation that ends a sentence (. , ; : ! ? '
// and a ')' ']' '}' without its opening one in the URL) is not part of it. A URL longer than
// max_url_bytes gives nullopt.
std::optional<std::string> first_url(std::string_view text);

// False when `bytes` (e.g. a whole chat.messages record) cannot hold an http(s) URL: no "http" in
// any case. A cheap test before decoding a record for first_url().
bool may_hold_url(std::string_view bytes) noexcept;

}  // namespace chat::chatd::preview
