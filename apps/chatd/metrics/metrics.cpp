#include "metrics/metrics.hpp"

#include <cmath>
#include <cstdio>
#include <cstring>
#include <stdexcept>

namespace chat::metrics {

std::uint64_t gauge::to_bits(double v) noexcept {
  std::uint64_t b;
  std::memcpy(&b, &v, sizeof b);
  return b;
}

double gauge::from_bits(std::uint64_t b) noexcept {
  double v;
  std::memcpy(&v, &b, sizeof v);
  return v;
}

void gauge::add(double d) noexcept {
  std::uint64_t old = bits_.load(std::memory_order_relaxed);
  while (!bits_.compare_exchange_weak(old, to_bits(from_bits(old) + d), std::memory_order_relaxed)) {
  }
}

histogram::histogram(std::vector<double> upper_bounds)
    : bounds_(std::move(upper_bounds)), buckets_(new std::atomic<std::uint64_t>[bounds_.size() + 1]) {
  for (std::size_t i = 0; i <= bounds_.size(); ++i) buckets_[i].store(0, std::memory_order_relaxed);
}

void histogram::observe(double v) noexcept {
  if (!std::isfinite(v)) return;
  std::size_t i = 0;
  while (i < bounds_.size() && v > bounds_[i]) ++i;
  buckets_[i].fetch_add(1, std::memory_order_relaxed);
  const double micros = std::max(0.0, v) * 1e6;
  sum_micros_.fetch_add(static_cast<std::uint64_t>(micros + 0.5), std::memory_order_relaxed);
}

std::vector<std::uint64_t> histogram::cumulative() const {
  std::vector<std::uint64_t> out(bounds_.size() + 1);
  std::uint64_t running = 0;
  for (std::size_t i = 0; i <= bounds_.size(); ++i) {
    running += buckets_[i].load(std::memory_order_relaxed);
    out[i] = running;
  }
  return out;
}

double histogram::sum() const noexcept {
  return static_cast<double>(sum_micros_.load(std::memory_order_relaxed)) / 1e6;
}

std::vector<double> latency_buckets() {
  return {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
}

std::string render_labels(const labels& l) {
  if (l.empty()) return {};
  std::string out = "{";
  bool first = true;
  for (const auto& [k, v] : l) {
    if (!first) out += ',';
    first = false;
    out += k;
    out += "=\"";
    for (char c : v) {
      if (c == '\\') {
        out += "\\\\";
      } else if (c == '"') {
        out += "\\\"";
      } else if (c == '\n') {
        out += "\\n";
      } else {
        out += c;
      }
    }
    out += '"';
  }
  out += '}';
  return out;
}

registry::family& registry::family_for(const std::string& name, const std::string& help, kind type) {
  auto [it, inserted] = families_.try_emplace(name, family{type, help, {}, {}, {}});
  if (!inserted && it->second.type != type)
    throw std::logic_error("metric " + name + " registered twice with different types");
  return it->second;
}

counter& registry::get_counter(const std::string& name, const std::string& help, const labels& l) {
  std::lock_guard lock(mutex_);
  auto& fam = family_for(name, help, kind::counter);
  auto& slot = fam.counters[render_labels(l)];
  if (slot == nullptr) slot = &counter_store_.emplace_back();
  return *slot;
}

gauge& registry::get_gauge(const std::string& name, const std::string& help, const labels& l) {
  std::lock_guard lock(mutex_);
  auto& fam = family_for(name, help, kind::gauge);
  auto& slot = fam.gauges[render_labels(l)];
  if (slot == nullptr) slot = &gauge_store_.emplace_back();
  return *slot;
}

histogram& registry::get_histogram(const std::string& name, const std::string& help, const labels& l,
                                   std::vector<double> bounds) {
  std::lock_guard lock(mutex_);
  auto& fam = family_for(name, help, kind::histogram);
  auto& slot = fam.histograms[render_labels(l)];
  if (slot == nullptr) slot = histogram_store_.emplace_back(std::make_unique<histogram>(std::move(bounds))).get();
  return *slot;
}

void registry::on_collect(std::function<void()> fn) {
  std::lock_guard lock(mutex_);
  collectors_.push_back(std::move(fn));
}

namespace {

void append_number(std::string& out, double v) {
  char buf[64];
  if (std::isinf(v)) {
    std::snprintf(buf, sizeof buf, "%s", v > 0 ? "+Inf" : "-Inf");
  } else if (v == std::floor(v) && std::fabs(v) < 1e15) {
    std::snprintf(buf, sizeof buf, "%.0f", v);
  } else {
    std::snprintf(buf, sizeof buf, "%.9g", v);
  }
  out += buf;
}

// Inserts le="x" into an already rendered label set.
std::string with_le(const std::string& rendered, const std::string& le) {
  if (rendered.empty()) return "{le=\"" + le + "\"}";
  return rendered.substr(0, rendered.size() - 1) + ",le=\"" + le + "\"}";
}

}  // namespace

std::string registry::render() {
  std::vector<std::function<void()>> collectors;
  {
    std::lock_guard lock(mutex_);
    collectors = collectors_;
  }
  for (auto& c : collectors) c();

  std::lock_guard lock(mutex_);
  std::string out;
  out.reserve(4096);
  for (const auto& [name, fam] : families_) {
    out += "# HELP " + name + " " + fam.help + "\n";
    switch (fam.type) {
      case kind::counter:
        out += "# TYPE " + name + " counter\n";
        for (const auto& [l, c] : fam.counters) {
          out += name + l + " ";
          append_number(out, static_cast<double>(c->value()));
          out += '\n';
        }
        break;
      case kind::gauge:
        out += "# TYPE " + name + " gauge\n";
        for (const auto& [l, g] : fam.gauges) {
          out += name + l + " ";
          append_number(out, g->value());
          out += '\n';
        }
        break;
      case kind::histogram:
        out += "# TYPE " + name + " histogram\n";
        for (const auto& [l, h] : fam.histograms) {
          const auto cum = h->cumulative();
          for (std::size_t i = 0; i < h->bounds().size(); ++i) {
            std::string le;
            append_number(le, h->bounds()[i]);
            out += name + "_bucket" + with_le(l, le) + " " + std::to_string(cum[i]) + "\n";
          }
          out += name + "_bucket" + with_le(l, "+Inf") + " " + std::to_string(cum.back()) + "\n";
          out += name + "_sum" + l + " ";
          append_number(out, h->sum());
          out += "\n" + name + "_count" + l + " " + std::to_string(cum.back()) + "\n";
        }
        break;
    }
  }
  return out;
}

}  // namespace chat::metrics
