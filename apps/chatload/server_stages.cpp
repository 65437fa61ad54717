#include "server_stages.hpp"

#include <chat/client/rest_client.hpp>
#include <chat/client/url.hpp>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <limits>

namespace chatload {
namespace {

constexpr std::string_view stage_family = "chat_stage_latency_seconds";

// The value of label `name` in `labels` ({a="x",b="y"}), or nullopt.
std::optional<std::string_view> label_value(std::string_view labels, std::string_view name) {
  std::size_t at = 0;
  while (at < labels.size()) {
    const auto eq = labels.find("=\"", at);
    if (eq == std::string_view::npos) return std::nullopt;
    auto key = labels.substr(at, eq - at);
    while (!key.empty() && (key.front() == '{' || key.front() == ',' || key.front() == ' ')) key.remove_prefix(1);
    const auto end = labels.find('"', eq + 2);
    if (end == std::string_view::npos) return std::nullopt;
    if (key == name) return labels.substr(eq + 2, end - eq - 2);
    at = end + 1;
  }
  return std::nullopt;
}

std::optional<double> number(std::string_view text) {
  if (text == "+Inf" || text == "Inf") return std::numeric_limits<double>::infinity();
  double v = 0;
  const auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc{} || p != text.data() + text.size()) return std::nullopt;
  return v;
}

}  // namespace

stage_histograms parse_stage_histograms(std::string_view text) {
  stage_histograms out;
  std::size_t from = 0;
  while (from < text.size()) {
    auto end = text.find('\n', from);
    if (end == std::string_view::npos) end = text.size();
    const auto line = text.substr(from, end - from);
    from = end + 1;
    if (!line.starts_with(stage_family) || line.size() <= stage_family.size()) continue;
    const auto rest = line.substr(stage_family.size());
    const auto brace = rest.find('{');
    const auto close = rest.rfind('}');
    if (brace == std::string_view::npos || close == std::string_view::npos || close < brace) continue;
    const auto suffix = rest.substr(0, brace);
    const auto labels = rest.substr(brace, close - brace + 1);
    const auto value = number(rest.substr(std::min(rest.size(), close + 2)));
    const auto stage = label_value(labels, "stage");
    if (!value || !stage || (suffix != "_bucket" && suffix != "_sum" && suffix != "_count")) continue;
    auto& h = out[std::string(*stage)];
    if (suffix == "_bucket") {
      const auto le = label_value(labels, "le");
      const auto bound = le ? number(*le) : std::nullopt;
      if (!bound) continue;
      h.bounds.push_back(*bound);
      h.cumulative.push_back(static_cast<std::uint64_t>(std::llround(*value)));
    } else if (suffix == "_sum") {
      h.sum = *value;
    }
  }
  return out;
}

stage_histogram stage_histogram::delta(const stage_histogram& after, const stage_histogram& before) {
  if (before.bounds.empty()) return after;
  if (before.bounds != after.bounds) return {};
  stage_histogram d;
  d.bounds = after.bounds;
  d.cumulative.resize(after.cumulative.size());
  for (std::size_t i = 0; i < after.cumulative.size(); ++i) {
    d.cumulative[i] = after.cumulative[i] >= before.cumulative[i] ? after.cumulative[i] - before.cumulative[i] : 0;
  }
  d.sum = std::max(0.0, after.sum - before.sum);
  return d;
}

void stage_histogram::merge(const stage_histogram& other) {
  if (other.bounds.empty()) return;
  if (bounds.empty()) {
    *this = other;
    return;
  }
  if (bounds != other.bounds) return;
  for (std::size_t i = 0; i < cumulative.size(); ++i) cumulative[i] += other.cumulative[i];
  sum += other.sum;
}

std::optional<double> stage_histogram::quantile(double q) const {
  const auto total = count();
  if (total == 0 || bounds.empty()) return std::nullopt;
  const double rank = std::clamp(q, 0.0, 1.0) * static_cast<double>(total);
  for (std::size_t i = 0; i < bounds.size(); ++i) {
    if (static_cast<double>(cumulative[i]) < rank) continue;
    if (std::isinf(bounds[i])) return i > 0 ? bounds[i - 1] : 0.0;
    const double lower = i > 0 ? bounds[i - 1] : 0.0;
    const double below = i > 0 ? static_cast<double>(cumulative[i - 1]) : 0.0;
    const double in_bucket = static_cast<double>(cumulative[i]) - below;
    if (in_bucket <= 0) return bounds[i];
    return lower + (bounds[i] - lower) * (rank - below) / in_bucket;
  }
  return bounds.size() > 1 ? bounds[bounds.size() - 2] : 0.0;
}

std::optional<stage_histograms> scrape_stages(const std::string& url, std::string& why) {
  std::string url_why;
  const auto parsed = chat::client::parse_url(url, &url_why);
  if (!parsed) {
    why = "bad --server-metrics URL " + url + ": " + url_why;
    return std::nullopt;
  }
  // The whole URL is the target: the client appends a target to the base path.
  auto base = *parsed;
  std::string path = base.path.empty() ? "/metrics" : base.path;
  base.path.clear();
  chat::client::rest_client client(base, {.timeout = std::chrono::seconds(10), .user_agent = "chatload"});
  const auto r = client.request(chat::client::http_method::get, path);
  if (!r.ok()) {
    why = "GET " + url + ": " + (r.error ? r.error.message() : "HTTP " + std::to_string(r.status));
    return std::nullopt;
  }
  return parse_stage_histograms(r.body);
}

std::vector<stage_summary> summarize_stages(const stage_histograms& over_run) {
  static const std::vector<std::string> order = {"kafka_acked", "broadcast_consumed", "redis_published",
                                                 "node_received", "socket_written"};
  std::vector<stage_summary> out;
  auto add = [&](const std::string& name, const stage_histogram& h) {
    stage_summary s;
    s.stage = name;
    s.count = h.count();
    s.p50_ms = h.quantile(0.5).value_or(0) * 1000.0;
    s.p99_ms = h.quantile(0.99).value_or(0) * 1000.0;
    out.push_back(std::move(s));
  };
  for (const auto& name : order) {
    if (const auto it = over_run.find(name); it != over_run.end()) add(name, it->second);
  }
  for (const auto& [name, h] : over_run) {
    if (std::find(order.begin(), order.end(), name) == order.end()) add(name, h);
  }
  return out;
}

}  // namespace chatload
