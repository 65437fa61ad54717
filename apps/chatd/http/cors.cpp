#include "http/cors.hpp"

#include <algorithm>
#include <utility>

namespace chat::http {

cors_policy::cors_policy(std::vector<std::string> origins) {
  for (auto& o : origins) {
    if (o == "*") {
      any_ = true;
    } else {
      origins_.push_back(std::move(o));
    }
  }
}

bool cors_policy::allows(std::string_view origin) const noexcept {
  if (origin.empty()) return false;
  if (any_) return true;
  return std::find(origins_.begin(), origins_.end(), origin) != origins_.end();
}

bool cors_policy::is_preflight(const request& req) noexcept {
  return req.method() == verb::options && req.find(bhttp::field::origin) != req.end() &&
         req.find(bhttp::field::access_control_request_method) != req.end();
}

response cors_policy::preflight(const request& req, std::string_view methods) const {
  const auto origin = req[bhttp::field::origin];
  if (!allows(origin)) {
    auto res = error_response(status::forbidden, "cors_origin_denied", "this origin may not call the API");
    res.set(bhttp::field::vary, "Origin");
    return res;
  }
  response res{status::no_content, 11};
  res.set(bhttp::field::access_control_allow_origin, origin);
  res.set(bhttp::field::access_control_allow_methods, methods);
  res.set(bhttp::field::access_control_allow_headers, allow_headers);
  res.set(bhttp::field::access_control_max_age, std::to_string(max_age_seconds));
  res.set(bhttp::field::vary, "Origin");
  res.prepare_payload();
  return res;
}

void cors_policy::decorate(std::string_view origin, response& res) const {
  if (!enabled()) return;
  res.set(bhttp::field::vary, "Origin");
  if (!allows(origin)) return;
  res.set(bhttp::field::access_control_allow_origin, origin);
  res.set(bhttp::field::access_control_expose_headers, "Retry-After");
}

}  // namespace chat::http
