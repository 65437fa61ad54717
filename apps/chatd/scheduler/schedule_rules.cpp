#include "scheduler/schedule_rules.hpp"

#include <algorithm>

namespace chat::chatd::scheduler {
namespace {

using ms = std::chrono::milliseconds;
using std::chrono::days;
using std::chrono::sys_days;
using std::chrono::sys_time;

constexpr std::int64_t day_ms = 24LL * 3600 * 1000;

// Days and weeks: a fixed period in ms; months: 0.
std::int64_t period_ms(proto::schedule_repeat repeat) noexcept {
  switch (repeat) {
    case proto::schedule_repeat::once: return 0;
    case proto::schedule_repeat::daily: return day_ms;
    case proto::schedule_repeat::weekly: return 7 * day_ms;
    case proto::schedule_repeat::monthly: return 0;
  }
  return 0;
}

// floor(a / b) for b > 0.
std::int64_t floor_div(std::int64_t a, std::int64_t b) noexcept {
  const std::int64_t q = a / b;
  return (a % b != 0 && a < 0) ? q - 1 : q;
}

struct civil {
  std::chrono::year_month_day date;
  std::int64_t time_of_day_ms = 0;
};

civil civil_of(std::int64_t unix_ms) {
  const sys_time<ms> t{ms{unix_ms}};
  const sys_days d = std::chrono::floor<days>(t);
  return {std::chrono::year_month_day{d}, (t - d).count()};
}

std::int64_t month_number(const std::chrono::year_month_day& d) {
  return static_cast<std::int64_t>(static_cast<int>(d.year())) * 12 +
         static_cast<std::int64_t>(static_cast<unsigned>(d.month())) - 1;
}

std::int64_t nth_month(const civil& anchor, std::int64_t n) {
  using namespace std::chrono;
  const year_month ym = anchor.date.year() / anchor.date.month() + months{static_cast<int>(n)};
  const day last = (ym / std::chrono::last).day();
  const day d = std::min(anchor.date.day(), last);
  const sys_days date{ym / d};
  return std::chrono::duration_cast<ms>(date.time_since_epoch()).count() + anchor.time_of_day_ms;
}

constexpr std::uint64_t key_tag = 0x5cd;  // 12 bits after the version nibble
constexpr std::uint64_t mask48 = (std::uint64_t{1} << 48) - 1;
constexpr std::uint64_t mask62 = (std::uint64_t{1} << 62) - 1;

void append_hex(std::uint64_t value, int digits, std::string& out) {
  static constexpr char hex[] = "0123456789abcdef";
  for (int i = digits - 1; i >= 0; --i) out.push_back(hex[(value >> (4 * i)) & 0xF]);
}

}  // namespace

std::int64_t nth_occurrence(std::int64_t first_ms, proto::schedule_repeat repeat, std::int64_t n) {
  if (n <= 0) return first_ms;
  switch (repeat) {
    case proto::schedule_repeat::once: return first_ms;
    case proto::schedule_repeat::daily:
    case proto::schedule_repeat::weekly: return first_ms + n * period_ms(repeat);
    case proto::schedule_repeat::monthly: return nth_month(civil_of(first_ms), n);
  }
  return first_ms;
}

std::int64_t occurrence_index_at(std::int64_t first_ms, proto::schedule_repeat repeat, std::int64_t t_ms) {
  if (t_ms < first_ms) return -1;
  switch (repeat) {
    case proto::schedule_repeat::once: return 0;
    case proto::schedule_repeat::daily:
    case proto::schedule_repeat::weekly: return floor_div(t_ms - first_ms, period_ms(repeat));
    case proto::schedule_repeat::monthly: {
      const civil anchor = civil_of(first_ms);
      std::int64_t n = month_number(civil_of(t_ms).date) - month_number(anchor.date);
      // The occurrence of t's month may lie after t (a later day or time of that month).
      if (n > 0 && nth_month(anchor, n) > t_ms) --n;
      return n;
    }
  }
  return -1;
}

std::optional<std::int64_t> next_occurrence_after(std::int64_t first_ms, proto::schedule_repeat repeat,
                                                  std::int64_t after_ms) {
  const std::int64_t index = occurrence_index_at(first_ms, repeat, after_ms);
  if (repeat == proto::schedule_repeat::once) {
    if (index >= 0) return std::nullopt;
    return first_ms;
  }
  return nth_occurrence(first_ms, repeat, index + 1);
}

occurrence_plan plan_occurrence(std::int64_t first_ms, proto::schedule_repeat repeat, std::int64_t next_at_ms,
                                std::int64_t created_at_ms, std::int64_t now_ms, std::int64_t late_after_ms) {
  occurrence_plan plan;
  if (repeat == proto::schedule_repeat::once) {
    plan.occurrence_ms = next_at_ms;
  } else {
    const std::int64_t due = std::max<std::int64_t>(0, occurrence_index_at(first_ms, repeat, next_at_ms));
    const std::int64_t newest = std::max(due, occurrence_index_at(first_ms, repeat, now_ms));
    plan.occurrence_ms = nth_occurrence(first_ms, repeat, newest);
    plan.skipped = newest - due;
    plan.next_at_ms = nth_occurrence(first_ms, repeat, newest + 1);
  }
  plan.late = now_ms - std::max(plan.occurrence_ms, created_at_ms) > late_after_ms;
  return plan;
}

std::chrono::milliseconds late_after(std::chrono::milliseconds tick) {
  return std::max(std::chrono::milliseconds(5000), 3 * tick);
}

std::string occurrence_message_key(std::int64_t schedule_id, std::int64_t occurrence_ms) {
  const std::uint64_t t = static_cast<std::uint64_t>(occurrence_ms) & mask48;
  const std::uint64_t s = static_cast<std::uint64_t>(schedule_id) & mask62;
  const std::uint64_t high = (t << 16) | (std::uint64_t{8} << 12) | key_tag;
  const std::uint64_t low = (std::uint64_t{2} << 62) | s;
  std::string out;
  out.reserve(36);
  append_hex(high >> 32, 8, out);
  out.push_back('-');
  append_hex((high >> 16) & 0xFFFF, 4, out);
  out.push_back('-');
  append_hex(high & 0xFFFF, 4, out);
  out.push_back('-');
  append_hex(low >> 48, 4, out);
  out.push_back('-');
  append_hex(low & 0xFFFF'FFFF'FFFF, 12, out);
  return out;
}

std::optional<occurrence_ref> parse_occurrence_message_key(std::string_view key) {
  if (key.size() != 36 || key[8] != '-' || key[13] != '-' || key[18] != '-' || key[23] != '-') return std::nullopt;
  std::uint64_t high = 0;
  std::uint64_t low = 0;
  int digits = 0;
  for (std::size_t i = 0; i < key.size(); ++i) {
    if (i == 8 || i == 13 || i == 18 || i == 23) continue;
    const char c = key[i];
    std::uint64_t v = 0;
    if (c >= '0' && c <= '9') {
      v = static_cast<std::uint64_t>(c - '0');
    } else if (c >= 'a' && c <= 'f') {
      v = static_cast<std::uint64_t>(c - 'a' + 10);
    } else if (c >= 'A' && c <= 'F') {
      v = static_cast<std::uint64_t>(c - 'A' + 10);
    } else {
      return std::nullopt;
    }
    std::uint64_t& half = digits < 16 ? high : low;
    half = (half << 4) | v;
    ++digits;
  }
  if ((high & 0xFFFF) != ((std::uint64_t{8} << 12) | key_tag) || (low >> 62) != 2) return std::nullopt;
  return occurrence_ref{static_cast<std::int64_t>(low & mask62), static_cast<std::int64_t>(high >> 16)};
}

}  // namespace chat::chatd::scheduler
