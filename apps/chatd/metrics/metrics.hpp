#pragma once
// A small Prometheus registry: counters, gauges and fixed-bucket histograms with
// labels, updated lock-free on hot paths and rendered in the text exposition format
// (version 0.0.4). Registration takes a lock; increments never do.
#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace chat::metrics {

using labels = std::vector<std::pair<std::string, std::string>>;

class counter {
 public:
  void inc(std::uint64_t n = 1) noexcept { value_.fetch_add(n, std::memory_order_relaxed); }
  std::uint64_t value() const noexcept { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::uint64_t> value_{0};
};

class gauge {
 public:
  void set(double v) noexcept { bits_.store(to_bits(v), std::memory_order_relaxed); }
  void add(double d) noexcept;
  double value() const noexcept { return from_bits(bits_.load(std::memory_order_relaxed)); }

 private:
  static std::uint64_t to_bits(double v) noexcept;
  static double from_bits(std::uint64_t b) noexcept;
  std::atomic<std::uint64_t> bits_{0};
};

class histogram {
 public:
  explicit histogram(std::vector<double> upper_bounds);
  void observe(double v) noexcept;
  const std::vector<double>& bounds() const noexcept { return bounds_; }
  // Cumulative counts per bucket (+Inf last), sum and count, read without a lock. The count
  // is the +Inf bucket (there is no separate counter that a scrape could catch out of step).
  std::vector<std::uint64_t> cumulative() const;
  double sum() const noexcept;
  std::uint64_t count() const noexcept { return cumulative().back(); }

 private:
  std::vector<double> bounds_;
  std::unique_ptr<std::atomic<std::uint64_t>[]> buckets_;  // bounds_.size() + 1
  std::atomic<std::uint64_t> sum_micros_{0};               // sum in millionths, for lock-free adds
};

// Latency buckets in seconds: 0.5 ms .. 10 s.
std::vector<double> latency_buckets();

class registry {
 public:
  // Returns the series (family name + labels), creating it on first use. References
  // stay valid for the registry's lifetime. Thread-safe.
  counter& get_counter(const std::string& name, const std::string& help, const labels& l = {});
  gauge& get_gauge(const std::string& name, const std::string& help, const labels& l = {});
  histogram& get_histogram(const std::string& name, const std::string& help, const labels& l = {},
                           std::vector<double> bounds = latency_buckets());

  // Runs before every render (e.g. to refresh lag or session gauges).
  void on_collect(std::function<void()> fn);

  std::string render();

 private:
  enum class kind { counter, gauge, histogram };
  struct family {
    kind type;
    std::string help;
    // Ordered by rendered label text so output is stable.
    std::map<std::string, counter*> counters;
    std::map<std::string, gauge*> gauges;
    std::map<std::string, histogram*> histograms;
  };
  family& family_for(const std::string& name, const std::string& help, kind type);

  std::mutex mutex_;
  std::map<std::string, family> families_;
  std::deque<counter> counter_store_;
  std::deque<gauge> gauge_store_;
  std::deque<std::unique_ptr<histogram>> histogram_store_;
  std::vector<std::function<void()>> collectors_;
};

// Renders {a="x",b="y"} with label values escaped (\\, \", \n); empty for no labels.
std::string render_labels(const labels& l);

}  // namespace chat::metrics
