#pragma once
// Test helpers: run a decoder over a byte string cut into chunks and record what it did.
#include <chat/stomp/decoder.hpp>
#include <chat/stomp/errc.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <optional>
#include <ostream>
#include <random>
#include <string>
#include <string_view>
#include <vector>

namespace chat::stomp::test {

// What a decoder reported for one stream: frames and heart-beats in order (a heart-beat is
// an empty optional), then the error, if any.
struct decoded {
  std::vector<std::optional<frame>> events;
  std::error_code error;

  std::vector<frame> frames() const {
    std::vector<frame> out;
    for (const auto& e : events) {
      if (e) out.push_back(*e);
    }
    return out;
  }
  std::size_t heartbeats() const {
    std::size_t n = 0;
    for (const auto& e : events) n += e ? 0 : 1;
    return n;
  }

  friend bool operator==(const decoded&, const decoded&) = default;
};

inline std::ostream& operator<<(std::ostream& os, const decoded& d) {
  os << "{";
  for (const auto& e : d.events) {
    if (!e) {
      os << " <heart-beat>";
      continue;
    }
    os << " " << to_string(e->cmd) << "[";
    for (const auto& h : e->headers) os << h.name << "=" << h.value << ";";
    os << "] body(" << e->body.size() << ")";
  }
  return os << " } error=" << d.error.message();
}

struct decode_config {
  limits lim{};
  bool escaping = true;
};

// Feeds `input` cut at the (sorted) positions in `cuts`.
inline decoded decode_cut(std::string_view input, const std::vector<std::size_t>& cuts, decode_config cfg = {}) {
  decoder d(cfg.lim);
  d.set_escaping(cfg.escaping);
  decoded out;
  std::size_t pos = 0;
  auto feed_to = [&](std::size_t next) {
    if (out.error) return;
    out.error = d.feed(
        input.substr(pos, next - pos), [&](frame&& f) { out.events.emplace_back(std::move(f)); },
        [&] { out.events.emplace_back(std::nullopt); });
    pos = next;
  };
  for (const std::size_t c : cuts) feed_to(c);
  feed_to(input.size());
  return out;
}

inline decoded decode_whole(std::string_view input, decode_config cfg = {}) { return decode_cut(input, {}, cfg); }

inline decoded decode_bytewise(std::string_view input, decode_config cfg = {}) {
  std::vector<std::size_t> cuts;
  for (std::size_t i = 1; i < input.size(); ++i) cuts.push_back(i);
  return decode_cut(input, cuts, cfg);
}

inline decoded decode_random_cuts(std::string_view input, std::mt19937_64& rng, decode_config cfg = {}) {
  std::vector<std::size_t> cuts;
  if (input.size() > 1) {
    const std::size_t n = rng() % 8;
    for (std::size_t i = 0; i < n; ++i) cuts.push_back(1 + rng() % (input.size() - 1));
    std::sort(cuts.begin(), cuts.end());
  }
  return decode_cut(input, cuts, cfg);
}

// Decodes `input` whole, octet by octet and at random cut points; every way must give the
// same result, which is returned.
inline decoded decode_any_split(std::string_view input, decode_config cfg = {}) {
  const decoded whole = decode_whole(input, cfg);
  EXPECT_EQ(decode_bytewise(input, cfg), whole) << "octet-by-octet differs from whole";
  std::mt19937_64 rng(input.size() * 7919u + 17u);
  for (int i = 0; i < 20; ++i) {
    EXPECT_EQ(decode_random_cuts(input, rng, cfg), whole) << "random cuts differ from whole";
  }
  return whole;
}

inline std::string operator""_b(const char* s, std::size_t n) { return std::string(s, n); }

}  // namespace chat::stomp::test
