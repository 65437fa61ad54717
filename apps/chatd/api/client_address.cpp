#include "api/client_address.hpp"

#include <algorithm>
#include <cmath>

namespace chat::chatd::api {
namespace {

bool is_trusted(const ip_bytes& a, const std::vector<ip_network>& trusted) {
  return std::any_of(trusted.begin(), trusted.end(), [&](const ip_network& n) { return n.contains(a); });
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::string bucket_key(const ip_bytes& a) {
  // IPv6: the /64 only; IPv4: the address.
  const std::size_t n = a.v6 ? 8 : 4;
  std::string key(1, a.v6 ? '6' : '4');
  key.append(reinterpret_cast<const char*>(a.bytes.data()), n);
  return key;
}

}  // namespace

ip_bytes to_ip_bytes(const boost::asio::ip::address& a) {
  ip_bytes out;
  if (a.is_v4()) {
    const auto b = a.to_v4().to_bytes();
    std::copy(b.begin(), b.end(), out.bytes.begin());
    return out;
  }
  const auto v6 = a.to_v6();
  if (v6.is_v4_mapped()) {
    const auto b = v6.to_bytes();
    std::copy(b.begin() + 12, b.end(), out.bytes.begin());
    return out;
  }
  const auto b = v6.to_bytes();
  std::copy(b.begin(), b.end(), out.bytes.begin());
  out.v6 = true;
  return out;
}

ip_bytes client_address(const boost::asio::ip::address& peer, std::string_view forwarded_for,
                        const std::vector<ip_network>& trusted) {
  ip_bytes client = to_ip_bytes(peer);
  while (is_trusted(client, trusted)) {
    if (trim(forwarded_for).empty()) return client;
    const auto comma = forwarded_for.rfind(',');
    const auto entry = trim(comma == std::string_view::npos ? forwarded_for : forwarded_for.substr(comma + 1));
    auto hop = parse_ip(entry);
    if (!hop) return client;
    if (hop->v6) {
      // A proxy may write an IPv4 client as ::ffff:a.b.c.d.
      hop = to_ip_bytes(boost::asio::ip::make_address_v6(hop->bytes));
    }
    client = *hop;
    forwarded_for = comma == std::string_view::npos ? std::string_view{} : forwarded_for.substr(0, comma);
  }
  return client;
}

address_rate_limiter::address_rate_limiter(double per_second, double burst, std::size_t max_entries)
    : per_second_(per_second),
      burst_(std::max(1.0, burst)),
      max_entries_(std::max<std::size_t>(1, max_entries)),
      refill_time_(std::chrono::duration_cast<clock::duration>(std::chrono::duration<double>(burst_ / per_second_))) {}

std::optional<std::chrono::seconds> address_rate_limiter::take(bucket& b, clock::time_point now) const {
  if (now > b.last) {
    const double elapsed = std::chrono::duration<double>(now - b.last).count();
    b.tokens = std::min(burst_, b.tokens + elapsed * per_second_);
    b.last = now;
  }
  if (b.tokens >= 1.0) {
    b.tokens -= 1.0;
    return std::nullopt;
  }
  const double wait = (1.0 - b.tokens) / per_second_;
  return std::chrono::seconds(std::max<std::int64_t>(1, static_cast<std::int64_t>(std::ceil(wait))));
}

void address_rate_limiter::sweep(clock::time_point now) {
  last_sweep_ = now;
  // A bucket that has refilled completely is the same as no entry.
  std::erase_if(buckets_, [&](const auto& item) {
    const auto& b = item.second;
    return b.tokens + std::chrono::duration<double>(now - b.last).count() * per_second_ >= burst_;
  });
}

std::optional<std::chrono::seconds> address_rate_limiter::acquire(const ip_bytes& who, clock::time_point now) {
  const std::string key = bucket_key(who);
  std::lock_guard lock(mutex_);
  if (now - last_sweep_ >= std::max<clock::duration>(refill_time_, std::chrono::seconds(1))) sweep(now);
  if (auto it = buckets_.find(key); it != buckets_.end()) return take(it->second, now);
  if (buckets_.size() >= max_entries_) {
    if (!overflow_) overflow_ = bucket{burst_, now};
    return take(*overflow_, now);
  }
  auto& b = buckets_.emplace(key, bucket{burst_, now}).first->second;
  return take(b, now);
}

std::size_t address_rate_limiter::tracked() const {
  std::lock_guard lock(mutex_);
  return buckets_.size();
}

}  // namespace chat::chatd::api
