#include "core/filter.hpp"

#include "core/bytes.hpp"

#include <chat/common/time.hpp>

#include <algorithm>
#include <cctype>

namespace dlt_replay {

namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::optional<std::int64_t> non_negative(std::string_view text) noexcept {
  const auto n = parse_decimal(text);
  if (!n || *n < 0) return std::nullopt;
  return n;
}

// "1h30m" and friends, in milliseconds.
std::optional<std::int64_t> parse_age(std::string_view text) noexcept {
  if (text.empty()) return std::nullopt;
  std::int64_t total = 0;
  std::size_t i = 0;
  while (i < text.size()) {
    std::size_t j = i;
    while (j < text.size() && std::isdigit(static_cast<unsigned char>(text[j])) != 0) ++j;
    if (j == i || j == text.size() || j - i > 9) return std::nullopt;
    std::int64_t n = 0;
    for (std::size_t k = i; k < j; ++k) n = n * 10 + (text[k] - '0');
    std::int64_t unit = 0;
    switch (text[j]) {
      case 's': unit = 1'000; break;
      case 'm': unit = 60'000; break;
      case 'h': unit = 3'600'000; break;
      case 'd': unit = 86'400'000; break;
      case 'w': unit = 7 * 86'400'000LL; break;
      default: return std::nullopt;
    }
    total += n * unit;
    i = j + 1;
  }
  return total;
}

}  // namespace

std::optional<offset_range> parse_offset_range(std::string_view text) noexcept {
  const auto dash = text.find('-');
  if (dash == std::string_view::npos) {
    const auto n = non_negative(text);
    if (!n) return std::nullopt;
    return offset_range{*n, *n};
  }
  const auto a = text.substr(0, dash);
  const auto b = text.substr(dash + 1);
  if (a.empty() && b.empty()) return std::nullopt;
  offset_range r;
  if (!a.empty()) {
    const auto n = non_negative(a);
    if (!n) return std::nullopt;
    r.first = *n;
  }
  if (!b.empty()) {
    const auto n = non_negative(b);
    if (!n) return std::nullopt;
    r.last = *n;
  }
  if (r.first > r.last) return std::nullopt;
  return r;
}

std::optional<partition_offset> parse_partition_offset(std::string_view text) noexcept {
  const auto colon = text.find(':');
  if (colon == std::string_view::npos) return std::nullopt;
  const auto p = non_negative(text.substr(0, colon));
  const auto o = non_negative(text.substr(colon + 1));
  if (!p || !o || *p > std::numeric_limits<std::int32_t>::max()) return std::nullopt;
  return partition_offset{static_cast<std::int32_t>(*p), *o};
}

std::optional<std::int64_t> parse_time_bound(std::string_view text, std::int64_t now_ms) noexcept {
  if (text == "now") return now_ms;
  if (const auto ms = non_negative(text)) return ms;
  if (const auto age = parse_age(text)) return now_ms - *age;
  if (const auto t = chat::common::parse_iso8601_ms(text)) return t;
  // Forgiving forms of RFC 3339: a space for 'T', no zone (UTC), a bare date.
  std::string s(text);
  if (s.size() > 10 && s[10] == ' ') s[10] = 'T';
  if (s.size() == 10) s += "T00:00:00";
  if (s.size() == 16) s += ":00";  // "YYYY-MM-DDTHH:MM"
  if (const auto t = chat::common::parse_iso8601_ms(s)) return t;
  return chat::common::parse_iso8601_ms(s + "Z");
}

std::optional<error_matcher> error_matcher::parse(std::string_view text, std::string& why) {
  error_matcher m;
  const bool icase = text.size() >= 3 && text.front() == '/' && text.ends_with("/i");
  if ((text.size() >= 2 && text.front() == '/' && text.back() == '/') || icase) {
    const auto pattern = text.substr(1, text.size() - (icase ? 3 : 2));
    try {
      auto flags = std::regex::ECMAScript;
      if (icase) flags |= std::regex::icase;
      m.regex_.emplace(std::string(pattern), flags);
    } catch (const std::regex_error& e) {
      why = "bad regular expression " + std::string(text) + ": " + e.what();
      return std::nullopt;
    }
    return m;
  }
  m.needle_ = lower(text);
  return m;
}

std::string error_text(const dead_letter_info& info) {
  std::string out = info.error_class.value_or("");
  if (info.error_message) {
    if (!out.empty()) out += ": ";
    out += *info.error_message;
  }
  return out;
}

bool error_matcher::matches(const dead_letter_info& info) const {
  const std::string text = error_text(info);
  if (regex_) return std::regex_search(text, *regex_);
  return lower(text).find(needle_) != std::string::npos;
}

bool filter::matches(const dead_letter& d) const {
  if (since_ms || until_ms) {
    const auto t = d.time_ms();
    if (!t) return false;
    if (since_ms && *t < *since_ms) return false;
    if (until_ms && *t >= *until_ms) return false;
  }
  if (origin_topic && d.info.origin_topic != origin_topic) return false;
  if (origin_partition && d.info.origin_partition != origin_partition) return false;
  if (origin_offsets && !(d.info.origin_offset && origin_offsets->contains(*d.info.origin_offset))) return false;
  if (consumer_group && d.info.consumer_group != consumer_group) return false;
  if (error && !error->matches(d.info)) return false;
  if (room) {
    const bool by_key = d.key && *d.key == *room;
    if (!by_key && payload_room_id(d.value) != room) return false;
  }
  if (event && payload_event(d.value) != event) return false;
  return true;
}

bool filter::empty() const noexcept {
  return !since_ms && !until_ms && !error && !origin_topic && !origin_partition && !origin_offsets && !consumer_group &&
         !room && !event;
}

}  // namespace dlt_replay
