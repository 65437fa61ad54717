#pragma once
// The link preview fetcher (SPEC §16, docs/operations.md "Link previews"): GET one page over
// HTTP/1.1 or HTTPS with Boost.Beast, within a total time budget, following at most 3 redirects,
// every URL -- the first and each redirect's -- vetted by vet() (policy.hpp) and connected to by
// the addresses vet() judged, never by a second lookup. Reads at most 1 MiB of text/html.
// No Boost type in this header: the implementation is fetcher.cpp's.
#include "preview/policy.hpp"

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace chat::chatd::preview {

struct fetch_limits {
  // The whole fetch: every lookup, connect, TLS handshake, redirect and read (--preview-timeout).
  std::chrono::milliseconds timeout{5000};
  // A page that declares more is refused unread; one that sends more without its <head> having
  // ended first is refused (too_large). A <head> that ends in time is all that is read.
  std::size_t max_body_bytes = 1024 * 1024;
  std::size_t max_header_bytes = 16 * 1024;
  int max_redirects = 3;
};

// Why a fetch that was allowed gave no page. The names (to_string) are the reason labels of
// chat_previews_failed_total; the last two are the previewer's (no title or description; the
// event could not be published).
enum class failure : std::uint8_t { dns, connect, tls, timeout, http_status, bad_response, no_metadata, publish };
inline constexpr std::size_t failure_count = 8;
inline constexpr std::array<failure, failure_count> all_failures{
    failure::dns,         failure::connect,      failure::tls,         failure::timeout,
    failure::http_status, failure::bad_response, failure::no_metadata, failure::publish};

std::string_view to_string(failure f) noexcept;

struct fetched_page {
  url final_url;        // after the redirects
  std::string body;     // up to the end of <head> when it came, else all of it (at most max_body_bytes)
  std::string charset;  // Content-Type's charset=…, may be empty
};

struct fetch_result {
  std::optional<refusal> refused;
  std::optional<failure> failed;
  std::string detail;  // for the log: what was refused or failed, at which URL
  fetched_page page;   // when neither
};

// One fetch at a time: each preview worker thread owns a fetcher. TLS certificates are verified
// against the system's store, with SNI and the host name checked.
class page_fetcher {
 public:
  // `resolve`: nullptr = the system resolver (getaddrinfo through Asio, abandoned at the
  // deadline); tests inject their own.
  page_fetcher(fetch_policy policy, fetch_limits limits, resolver resolve = nullptr);
  ~page_fetcher();
  page_fetcher(const page_fetcher&) = delete;
  page_fetcher& operator=(const page_fetcher&) = delete;

  // Blocks the calling thread for at most limits.timeout (plus a scheduling slack).
  fetch_result fetch(const url& start);

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace chat::chatd::preview
