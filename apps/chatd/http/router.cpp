#include "http/router.hpp"

#include <chat/proto/rest.hpp>

#include <algorithm>

namespace chat::http {
namespace {

std::vector<std::string_view> split_path(std::string_view target) {
  if (const auto q = target.find('?'); q != std::string_view::npos) target = target.substr(0, q);
  std::vector<std::string_view> out;
  std::size_t i = 0;
  while (i < target.size()) {
    if (target[i] == '/') {
      ++i;
      continue;
    }
    const auto next = target.find('/', i);
    const auto end = next == std::string_view::npos ? target.size() : next;
    out.push_back(target.substr(i, end - i));
    i = end;
  }
  return out;
}

}  // namespace

response json_response(status st, std::string body) {
  response res{st, 11};
  res.set(bhttp::field::content_type, "application/json");
  res.set(bhttp::field::cache_control, "no-store");
  res.body() = std::move(body);
  res.prepare_payload();
  return res;
}

response error_response(status st, std::string_view code, std::string_view message) {
  return json_response(st, proto::error_body(code, message));
}

void router::add(verb method, std::string pattern, handler h, std::size_t max_body_bytes, body_admission admit) {
  route r{method, std::move(pattern), {}, std::move(h), max_body_bytes, std::move(admit)};
  for (auto seg : split_path(r.pattern)) r.segments.emplace_back(seg);
  routes_.push_back(std::move(r));
}

std::vector<std::string_view> router::patterns() const {
  std::vector<std::string_view> out;
  for (const auto& r : routes_) {
    if (std::find(out.begin(), out.end(), r.pattern) == out.end()) out.emplace_back(r.pattern);
  }
  return out;
}

std::size_t router::body_limit(const request& head) const {
  const auto path = split_path(head.target());
  const verb method = head.method();
  for (const auto& r : routes_) {
    path_params params;
    if (!match(r, path, params)) continue;
    if (r.method == method || (method == verb::head && r.method == verb::get)) {
      if (r.max_body_bytes == 0 || (r.admit && !r.admit(head))) return 0;
      return r.max_body_bytes;
    }
  }
  return 0;
}

bool router::match(const route& r, const std::vector<std::string_view>& path, path_params& params) {
  if (r.segments.size() != path.size()) return false;
  for (std::size_t i = 0; i < path.size(); ++i) {
    const std::string& seg = r.segments[i];
    if (seg.size() >= 2 && seg.front() == '{' && seg.back() == '}') {
      params.add(std::string_view(seg).substr(1, seg.size() - 2), path[i]);
    } else if (seg != path[i]) {
      return false;
    }
  }
  return true;
}

std::string_view router::dispatch(const request& req, const boost::asio::ip::address& peer, responder respond,
                                  stream_opener stream) const {
  if (cors_.enabled() && stream) {
    stream = [this, origin = std::string(req[bhttp::field::origin]), inner = std::move(stream)](
                 response head, std::function<void(stream_end)> ended) {
      cors_.decorate(origin, head);
      return inner(std::move(head), std::move(ended));
    };
  }
  if (cors_.enabled()) {
    // Every answer, the handler's included, carries the CORS headers for the request's origin.
    // The responder may run after the request is gone (a database thread): keep the origin.
    respond = [this, origin = std::string(req[bhttp::field::origin]), inner = std::move(respond)](response&& res) {
      cors_.decorate(origin, res);
      inner(std::move(res));
    };
  }
  const auto path = split_path(req.target());
  const bool preflight = cors_.enabled() && cors_policy::is_preflight(req);
  std::string_view pattern = unmatched_route;
  std::string allow;
  std::vector<verb> allowed;
  for (const auto& r : routes_) {
    path_params params;
    params.set_peer(peer);
    if (!match(r, path, params)) continue;
    pattern = r.pattern;
    if (!preflight && (r.method == req.method() || (req.method() == verb::head && r.method == verb::get))) {
      params.set_stream(std::move(stream));
      r.h(req, params, std::move(respond));
      return pattern;
    }
    // Patterns may overlap (/members/me and /members/{userId}): each method once.
    if (std::find(allowed.begin(), allowed.end(), r.method) != allowed.end()) continue;
    allowed.push_back(r.method);
    if (!allow.empty()) allow += ", ";
    allow += std::string(bhttp::to_string(r.method));
  }
  if (preflight && !allow.empty()) {
    respond(cors_.preflight(req, allow));
    return pattern;
  }
  if (!allow.empty()) {
    auto res = error_response(status::method_not_allowed, "method_not_allowed",
                              "method " + std::string(req.method_string()) + " is not allowed here");
    res.set(bhttp::field::allow, allow);
    respond(std::move(res));
    return pattern;
  }
  respond(error_response(status::not_found, "not_found", "no such route"));
  return unmatched_route;
}

}  // namespace chat::http
