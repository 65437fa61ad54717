#pragma once
// Maps (method, path pattern) to handlers. Patterns are literal segments and {name}
// captures: "/api/rooms/{id}/messages". Unknown path -> 404, known path with another
// method -> 405 with Allow, both as JSON error bodies.
#include "http/types.hpp"

#include <boost/asio/ip/address.hpp>

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
  // The TCP peer of the request's connection (a proxy's address when one is in front);
  // unspecified when unknown.
  const boost::asio::ip::address& peer() const { return peer_; }
  void set_peer(const boost::asio::ip::address& a) { peer_ = a; }

 private:
  std::vector<std::pair<std::string_view, std::string_view>> items_;
  boost::asio::ip::address peer_;
};

// A handler runs on an I/O thread and must not block: database work goes to the pool,
// which calls `respond` later from its own thread. `respond` must be called exactly once.
using handler = std::function<void(const request&, const path_params&, responder)>;

class router {
 public:
  void add(verb method, std::string pattern, handler h);
  // `peer` is the connection's TCP peer, handed to the handler as path_params::peer().
  void dispatch(const request& req, const boost::asio::ip::address& peer, responder respond) const;

 private:
  struct route {
    verb method;
    std::vector<std::string> segments;  // "{x}" marks a capture
    handler h;
  };
  static bool match(const route& r, const std::vector<std::string_view>& path, path_params& params);
  std::vector<route> routes_;
};

}  // namespace chat::http
