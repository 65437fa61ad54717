#pragma once
// Maps (method, path pattern) to handlers. Patterns are literal segments and {name}
// captures: "/api/rooms/{id}/messages". Unknown path -> 404, known path with another
// method -> 405 with Allow, both as JSON error bodies. With a CORS policy, preflights are
// answered here and every response carries the policy's headers (http/cors.hpp).
#include "http/cors.hpp"
#include "http/types.hpp"

#include <boost/asio/ip/address.hpp>

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace chat::http {

class path_params {
 public:
  void add(std::string_view name, std::string_view value) { items_.emplace_back(name, value); }
  // The captured segment, or empty when the pattern has no such capture.
  std::string_view get(std::string_view name) const {
    for (const auto& [k, v] : items_) {
      if (k == name) return v;
    }
    return {};
  }
  // Every capture, (name, value), in pattern order.
  const std::vector<std::pair<std::string_view, std::string_view>>& items() const { return items_; }
  // The TCP peer of the request's connection (a proxy's address when one is in front);
  // unspecified when unknown.
  const boost::asio::ip::address& peer() const { return peer_; }
  void set_peer(const boost::asio::ip::address& a) { peer_ = a; }
  // Starts a streaming response instead of answering through the responder (null when the
  // server cannot stream this request). A handler uses one or the other, once.
  const stream_opener& stream() const { return stream_; }
  void set_stream(stream_opener open) { stream_ = std::move(open); }

 private:
  std::vector<std::pair<std::string_view, std::string_view>> items_;
  boost::asio::ip::address peer_;
  stream_opener stream_;
};

// A handler runs on an I/O thread and must not block: database work goes to the pool,
// which calls `respond` later from its own thread. `respond` must be called exactly once.
using handler = std::function<void(const request&, const path_params&, responder)>;

// Whether a request, by its headers alone (its body not read yet), may send a body up to its
// route's own limit (e.g. it carries a valid token); otherwise the server's limit applies.
// Runs on an I/O thread: cheap, never blocks.
using body_admission = std::function<bool(const request& head)>;

// The route label of requests that matched no pattern (404): metrics and the access log
// name a request by its pattern, never by its path, so their label set stays bounded.
inline constexpr std::string_view unmatched_route = "unmatched";

class router {
 public:
  // Before the server starts; the router is read-only once requests arrive. `max_body_bytes`
  // (0: the server's server_limits::max_body_bytes) is this route's own body limit, e.g. for
  // uploads: the server reads the headers first and then allows the matched route's limit,
  // to requests that `admit` accepts (all when it is empty).
  void add(verb method, std::string pattern, handler h, std::size_t max_body_bytes = 0, body_admission admit = {});
  void set_cors(cors_policy cors) { cors_ = std::move(cors); }

  // Runs the request's handler, or answers 404/405 or a CORS preflight. Returns the
  // matched pattern (as added; valid for the router's lifetime), or unmatched_route.
  // `peer` is the connection's TCP peer, handed to the handler as path_params::peer().
  // `stream` (may be empty) becomes path_params::stream() (with the CORS headers on its head).
  std::string_view dispatch(const request& req, const boost::asio::ip::address& peer, responder respond,
                            stream_opener stream = {}) const;

  // The body limit of the route a request with these headers would run (its method and
  // target; HEAD as GET), or 0 when it has none of its own, its admission refuses the
  // headers, or it matches no route.
  std::size_t body_limit(const request& head) const;

  // The route patterns, each once, in the order they were added.
  std::vector<std::string_view> patterns() const;

 private:
  struct route {
    verb method;
    std::string pattern;
    std::vector<std::string> segments;  // "{x}" marks a capture
    handler h;
    std::size_t max_body_bytes = 0;  // 0: the server's default
    body_admission admit;            // empty: every request
  };
  static bool match(const route& r, const std::vector<std::string_view>& path, path_params& params);
  std::vector<route> routes_;
  cors_policy cors_;
};

}  // namespace chat::http
