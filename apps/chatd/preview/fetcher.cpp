#include "preview/fetcher.hpp"

#include "preview/ascii.hpp"
#include "preview/html_meta.hpp"
#include "version.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include <array>
#include <limits>
#include <memory>
#include <vector>

namespace chat::chatd::preview {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;
using fetch_clock = std::chrono::steady_clock;

// A part of an exchange that failed: which failure it is, or a timeout when the budget is spent.
struct step_error {
  failure kind = failure::bad_response;
  std::string what;
};

bool is_html(std::string_view content_type) {
  std::string_view type = content_type.substr(0, content_type.find(';'));
  while (!type.empty() && (type.back() == ' ' || type.back() == '\t')) type.remove_suffix(1);
  while (!type.empty() && (type.front() == ' ' || type.front() == '\t')) type.remove_prefix(1);
  return ascii::equals_nocase(type, "text/html") || ascii::equals_nocase(type, "application/xhtml+xml");
}

std::vector<tcp::endpoint> endpoints_of(const std::vector<ip_bytes>& addresses, std::uint16_t port) {
  std::vector<tcp::endpoint> out;
  out.reserve(addresses.size());
  for (const auto& a : addresses) {
    if (a.v6) {
      net::ip::address_v6::bytes_type b;
      std::copy(a.bytes.begin(), a.bytes.end(), b.begin());
      out.emplace_back(net::ip::address_v6(b), port);
    } else {
      net::ip::address_v4::bytes_type b;
      std::copy(a.bytes.begin(), a.bytes.begin() + 4, b.begin());
      out.emplace_back(net::ip::address_v4(b), port);
    }
  }
  return out;
}

// One response: what to do next.
struct response_outcome {
  std::optional<std::string> location;  // a redirect
  std::optional<refusal> refused;
  std::optional<step_error> error;
  std::string body;
  std::string charset;
};

}  // namespace

std::string_view to_string(failure f) noexcept {
  switch (f) {
    case failure::dns: return "dns";
    case failure::connect: return "connect";
    case failure::tls: return "tls";
    case failure::timeout: return "timeout";
    case failure::http_status: return "http_status";
    case failure::bad_response: return "bad_response";
    case failure::no_metadata: return "no_metadata";
    case failure::publish: return "publish";
  }
  return "bad_response";
}

struct page_fetcher::impl {
  fetch_policy policy;
  fetch_limits limits;
  resolver custom;
  net::io_context ioc{1};
  ssl::context tls{ssl::context::tls_client};
  std::string user_agent = std::string("chatd-link-preview/") + std::string(chatd_version);

  impl(fetch_policy p, fetch_limits l, resolver r) : policy(std::move(p)), limits(l), custom(std::move(r)) {
    boost::system::error_code ignored;
    tls.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                        ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1,
                    ignored);
    tls.set_default_verify_paths(ignored);  // a missing store: every https fetch fails verification
    tls.set_verify_mode(ssl::verify_peer, ignored);
  }

  // Runs the io_context until `done` or the deadline; a handler still pending then stays queued
  // (its state is shared, see system_resolve()) and is run, harmlessly, by a later run.
  void run_until(const bool& done, fetch_clock::time_point deadline) {
    ioc.restart();
    while (!done && fetch_clock::now() < deadline) {
      if (ioc.run_one_until(deadline) == 0 && ioc.stopped()) break;
    }
  }

  // Runs the io_context until `done`: for Beast operations on a stream whose expiry is the
  // deadline, which therefore complete (with error::timeout at the latest) by then.
  void wait(const bool& done) {
    ioc.restart();
    while (!done && ioc.run_one() != 0) {
    }
  }

  // Drains what an exchange left behind (cancelled timers, aborted operations).
  void settle() {
    ioc.restart();
    ioc.poll();
  }

  resolution system_resolve(const std::string& host, fetch_clock::time_point deadline) {
    struct state {
      bool done = false;
      boost::system::error_code ec;
      tcp::resolver::results_type results;
    };
    auto s = std::make_shared<state>();
    auto r = std::make_shared<tcp::resolver>(ioc);
    r->async_resolve(host, "", [s, r](const boost::system::error_code& ec, tcp::resolver::results_type results) {
      s->ec = ec;
      s->results = std::move(results);
      s->done = true;
    });
    run_until(s->done, deadline);
    resolution out;
    if (!s->done) {
      r->cancel();  // completes later with operation_aborted, into `s`
      out.error = "lookup timed out";
      return out;
    }
    if (s->ec) {
      out.error = s->ec.message();
      return out;
    }
    for (const auto& entry : s->results) {
      const auto address = entry.endpoint().address();
      ip_bytes b;
      if (address.is_v4()) {
        const auto v4 = address.to_v4().to_bytes();
        std::copy(v4.begin(), v4.end(), b.bytes.begin());
      } else {
        b.v6 = true;
        const auto v6 = address.to_v6().to_bytes();
        std::copy(v6.begin(), v6.end(), b.bytes.begin());
      }
      out.addresses.push_back(b);
    }
    return out;
  }

  step_error timed_or(failure kind, std::string what, fetch_clock::time_point deadline) const {
    if (fetch_clock::now() >= deadline) return {failure::timeout, "the time budget ran out (" + what + ")"};
    return {kind, std::move(what)};
  }

  // Connects to `endpoints` in order; the first that answers is used.
  std::optional<step_error> connect(beast::tcp_stream& stream, const std::vector<tcp::endpoint>& endpoints,
                                    fetch_clock::time_point deadline) {
    bool done = false;
    boost::system::error_code ec;
    stream.expires_at(deadline);
    stream.async_connect(endpoints, [&](const boost::system::error_code& e, const tcp::endpoint&) {
      ec = e;
      done = true;
    });
    wait(done);
    if (ec) return timed_or(failure::connect, ec.message(), deadline);
    return std::nullopt;
  }

  template <class Stream>
  response_outcome exchange(Stream& stream, const url& u, fetch_clock::time_point deadline) {
    response_outcome out;
    auto& lowest = beast::get_lowest_layer(stream);  // its expiry bounds every step below
    http::request<http::empty_body> req{http::verb::get, u.target, 11};
    req.set(http::field::host, u.authority());
    req.set(http::field::user_agent, user_agent);
    req.set(http::field::accept, "text/html,application/xhtml+xml;q=0.9,*/*;q=0.1");
    req.set(http::field::accept_encoding, "identity");
    req.set(http::field::connection, "close");

    bool done = false;
    boost::system::error_code ec;
    lowest.expires_at(deadline);
    http::async_write(stream, req, [&](const boost::system::error_code& e, std::size_t) {
      ec = e;
      done = true;
    });
    wait(done);
    if (ec) {
      out.error = timed_or(failure::bad_response, "sending the request: " + ec.message(), deadline);
      return out;
    }

    beast::flat_buffer buffer(limits.max_header_bytes + 16 * 1024);
    http::response_parser<http::buffer_body> parser;
    parser.header_limit(static_cast<std::uint32_t>(limits.max_header_bytes));
    // Counted below (buffer_body: the parser allocates nothing for it). Not boost::none: Boost
    // 1.74's parser compares a length with an empty limit as "exceeded".
    parser.body_limit(std::numeric_limits<std::uint64_t>::max());
    done = false;
    http::async_read_header(stream, buffer, parser, [&](const boost::system::error_code& e, std::size_t) {
      ec = e;
      done = true;
    });
    wait(done);
    if (ec) {
      out.error = timed_or(failure::bad_response, "reading the header: " + ec.message(), deadline);
      return out;
    }
    const auto& head = parser.get();
    const unsigned status = head.result_int();
    if (status >= 300 && status < 400 && status != 304) {
      const auto location = head[http::field::location];
      if (location.empty()) {
        out.error = step_error{failure::http_status, "HTTP " + std::to_string(status) + " without a Location"};
      } else {
        out.location = std::string(location);
      }
      return out;
    }
    if (status < 200 || status >= 300) {
      out.error = step_error{failure::http_status, "HTTP " + std::to_string(status)};
      return out;
    }
    const std::string_view content_type = head[http::field::content_type];
    if (!is_html(content_type)) {
      out.refused = refusal::content_type;
      out.body = "Content-Type " + (content_type.empty() ? std::string("(none)") : std::string(content_type));
      return out;
    }
    out.charset = std::string(charset_of(content_type));
    if (const auto length = parser.content_length(); length && *length > limits.max_body_bytes) {
      out.refused = refusal::too_large;
      out.body = "Content-Length " + std::to_string(*length);
      return out;
    }

    std::array<char, 16 * 1024> chunk{};
    std::size_t scanned = 0;
    while (!parser.is_done()) {
      parser.get().body().data = chunk.data();
      parser.get().body().size = chunk.size();
      done = false;
      http::async_read(stream, buffer, parser, [&](const boost::system::error_code& e, std::size_t) {
        ec = e;
        done = true;
      });
      wait(done);
      if (ec == http::error::need_buffer) ec = {};
      if (ec) {
        out.error = timed_or(failure::bad_response, "reading the body: " + ec.message(), deadline);
        return out;
      }
      out.body.append(chunk.data(), chunk.size() - parser.get().body().size);
      // Only the head matters: stop reading once it ended (searching the new bytes only).
      const std::size_t from = scanned > 16 ? scanned - 16 : 0;
      if (const auto end = head_end(std::string_view(out.body).substr(from))) {
        out.body.resize(std::min(out.body.size(), from + *end));
        return out;
      }
      scanned = out.body.size();
      if (out.body.size() > limits.max_body_bytes) {
        out.refused = refusal::too_large;
        out.body = "more than " + std::to_string(limits.max_body_bytes) + " bytes before the end of <head>";
        return out;
      }
    }
    return out;
  }

  response_outcome request(const url& u, const std::vector<ip_bytes>& addresses, fetch_clock::time_point deadline) {
    const auto endpoints = endpoints_of(addresses, u.port);
    if (!u.https) {
      beast::tcp_stream stream(ioc);
      response_outcome out;
      if (auto e = connect(stream, endpoints, deadline)) {
        out.error = std::move(e);
        return out;
      }
      out = exchange(stream, u, deadline);
      boost::system::error_code ignored;
      stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
      stream.close();
      settle();
      return out;
    }
    beast::ssl_stream<beast::tcp_stream> stream(ioc, tls);
    response_outcome out;
    // SNI names the host (never an address: RFC 6066); the certificate must match the host,
    // a name or an address.
    if (!parse_ip(u.host) && SSL_set_tlsext_host_name(stream.native_handle(), u.host.c_str()) != 1) {
      out.error = step_error{failure::tls, "cannot set SNI"};
      return out;
    }
    stream.set_verify_callback(ssl::host_name_verification(u.host));
    if (auto e = connect(beast::get_lowest_layer(stream), endpoints, deadline)) {
      out.error = std::move(e);
      return out;
    }
    bool done = false;
    boost::system::error_code ec;
    beast::get_lowest_layer(stream).expires_at(deadline);
    stream.async_handshake(ssl::stream_base::client, [&](const boost::system::error_code& e) {
      ec = e;
      done = true;
    });
    wait(done);
    if (ec) {
      out.error = timed_or(failure::tls, "TLS handshake: " + ec.message(), deadline);
    } else {
      out = exchange(stream, u, deadline);
    }
    beast::get_lowest_layer(stream).close();  // no close_notify: the response is read, or abandoned
    settle();
    return out;
  }

  fetch_result fetch(const url& start) {
    const auto deadline = fetch_clock::now() + limits.timeout;
    const resolver resolve =
        custom ? custom
               : resolver([this, deadline](const std::string& host) { return system_resolve(host, deadline); });
    fetch_result result;
    url current = start;
    for (int redirects = 0;; ++redirects) {
      const vetted v = vet(current, policy, resolve);
      if (v.refused) {
        result.refused = v.refused;
        result.detail = current.text();
        return result;
      }
      if (!v.failed.empty()) {
        result.failed = fetch_clock::now() >= deadline ? failure::timeout : failure::dns;
        result.detail = current.host + ": " + v.failed;
        return result;
      }
      response_outcome r = request(current, v.addresses, deadline);
      settle();
      if (r.refused) {
        result.refused = r.refused;
        result.detail = current.text() + ": " + r.body;
        return result;
      }
      if (r.error) {
        result.failed = r.error->kind;
        result.detail = current.text() + ": " + r.error->what;
        return result;
      }
      if (!r.location) {
        result.page = fetched_page{current, std::move(r.body), std::move(r.charset)};
        return result;
      }
      if (redirects == limits.max_redirects) {
        result.refused = refusal::redirects;
        result.detail = current.text() + " redirects a " + std::to_string(redirects + 1) + "th time";
        return result;
      }
      auto next = resolve_location(current, *r.location);
      if (!next) {
        result.refused = next.error();
        result.detail = current.text() + " redirects to " + r.location->substr(0, 200);
        return result;
      }
      current = std::move(*next);
    }
  }
};

page_fetcher::page_fetcher(fetch_policy policy, fetch_limits limits, resolver resolve)
    : impl_(std::make_unique<impl>(std::move(policy), limits, std::move(resolve))) {}

page_fetcher::~page_fetcher() = default;

fetch_result page_fetcher::fetch(const url& start) { return impl_->fetch(start); }

}  // namespace chat::chatd::preview
