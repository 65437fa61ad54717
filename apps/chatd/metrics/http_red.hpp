#pragma once
// HTTP RED metrics (docs/operations.md): chat_http_requests_total{route,code} and
// chat_http_request_duration_seconds{route}. `route` is a route PATTERN
// ("/api/rooms/{id}/messages"), never a path, so the label set is bounded by the routes
// registered at start-up; a request naming no known route is counted under `fallback`.
#include "metrics/metrics.hpp"

#include <array>
#include <atomic>
#include <map>
#include <memory>
#include <string>
#include <string_view>

namespace chat::metrics {

class http_red {
 public:
  // `fallback` is the route label of requests that matched none ("unmatched").
  http_red(registry& r, std::string_view fallback);

  // Registers a route label and its duration series. Before observe() runs on other
  // threads: the route table is read without a lock afterwards.
  void add_route(std::string_view route);

  // One answered request. Lock-free once the (route, code) series exists; any thread.
  void observe(std::string_view route, unsigned code, double seconds);

 private:
  static constexpr unsigned min_code = 100;
  static constexpr unsigned max_code = 599;
  struct route_series {
    std::string name;
    histogram* duration = nullptr;
    std::array<std::atomic<counter*>, max_code - min_code + 1> by_code{};
  };
  route_series& series_for(std::string_view route);

  registry& reg_;
  std::map<std::string, std::unique_ptr<route_series>, std::less<>> routes_;
  route_series* fallback_ = nullptr;
};

}  // namespace chat::metrics
