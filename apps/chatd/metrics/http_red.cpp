#include "metrics/http_red.hpp"

#include <algorithm>

namespace chat::metrics {

namespace {
constexpr const char* requests_name = "chat_http_requests_total";
constexpr const char* requests_help = "HTTP requests answered, by route pattern and status code (a /ws upgrade is one)";
constexpr const char* duration_name = "chat_http_request_duration_seconds";
constexpr const char* duration_help = "From an HTTP request read to its response written, by route pattern";
}  // namespace

http_red::http_red(registry& r, std::string_view fallback) : reg_(r) {
  add_route(fallback);
  fallback_ = routes_.find(fallback)->second.get();
}

void http_red::add_route(std::string_view route) {
  if (routes_.find(route) != routes_.end()) return;
  auto s = std::make_unique<route_series>();
  s->name = std::string(route);
  s->duration = &reg_.get_histogram(duration_name, duration_help, {{"route", s->name}});
  routes_.emplace(s->name, std::move(s));
}

http_red::route_series& http_red::series_for(std::string_view route) {
  const auto it = routes_.find(route);
  return it != routes_.end() ? *it->second : *fallback_;
}

void http_red::observe(std::string_view route, unsigned code, double seconds) {
  auto& s = series_for(route);
  s.duration->observe(seconds);
  code = std::clamp(code, min_code, max_code);
  auto& slot = s.by_code[code - min_code];
  counter* c = slot.load(std::memory_order_acquire);
  if (c == nullptr) {
    // First request of this (route, code): the registry lock, once; a racing thread gets
    // the same series from the registry.
    c = &reg_.get_counter(requests_name, requests_help, {{"route", s.name}, {"code", std::to_string(code)}});
    slot.store(c, std::memory_order_release);
  }
  c->inc();
}

}  // namespace chat::metrics
