#pragma once
// Cross-origin requests from browsers (docs/rest.md, "CORS"): which origins may call chatd's
// HTTP routes, the answer to a preflight, and the headers of a response to an allowed
// origin. With no origin configured (the default) there are no CORS headers at all and
// OPTIONS is a method like any other (405 on a known path).
#include "http/types.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace chat::http {

class cors_policy {
 public:
  // Allows no origin: CORS off.
  cors_policy() = default;
  // `origins` as a browser sends them in Origin (scheme://host[:port], lower case; the
  // configuration normalizes --cors-allow-origin so), or "*" for any origin.
  explicit cors_policy(std::vector<std::string> origins);

  bool enabled() const noexcept { return any_ || !origins_.empty(); }
  bool allows(std::string_view origin) const noexcept;

  // OPTIONS with Origin and Access-Control-Request-Method: a browser asking before it sends.
  static bool is_preflight(const request& req) noexcept;

  // The answer to a preflight for a path whose routes take `methods` ("GET, POST"): 204
  // with the Access-Control-Allow-* headers for an allowed origin, else 403 (JSON error).
  response preflight(const request& req, std::string_view methods) const;

  // For a response to a request from `origin` (its Origin header, maybe empty): Vary:
  // Origin, and Access-Control-Allow-Origin (plus the headers a script may read) when the
  // origin is allowed. Nothing while CORS is off.
  void decorate(std::string_view origin, response& res) const;

  // Allowed request headers and how long a browser may cache a preflight.
  static constexpr std::string_view allow_headers = "Authorization, Content-Type";
  static constexpr int max_age_seconds = 600;

 private:
  bool any_ = false;
  std::vector<std::string> origins_;
};

}  // namespace chat::http
