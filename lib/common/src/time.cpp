#include <chat/common/time.hpp>

#include <chrono>

namespace chat::common {
namespace {

constexpr std::int64_t ms_per_day = 86'400'000;

// Howard Hinnant's days_from_civil / civil_from_days (proleptic Gregorian calendar).
constexpr std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) noexcept {
  y -= m <= 2 ? 1 : 0;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

struct civil_date {
  std::int64_t year;
  unsigned month;
  unsigned day;
};

constexpr civil_date civil_from_days(std::int64_t z) noexcept {
  z += 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const std::int64_t y = static_cast<std::int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  return {y + (m <= 2 ? 1 : 0), m, d};
}

static_assert(days_from_civil(1970, 1, 1) == 0);
static_assert(days_from_civil(0, 1, 1) * ms_per_day == min_iso8601_unix_ms);
static_assert(days_from_civil(10000, 1, 1) * ms_per_day - 1 == max_iso8601_unix_ms);

constexpr bool is_leap(std::int64_t y) noexcept { return y % 4 == 0 && (y % 100 != 0 || y % 400 == 0); }

constexpr unsigned days_in_month(std::int64_t y, unsigned m) noexcept {
  constexpr unsigned days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && is_leap(y) ? 29 : days[m - 1];
}

void put_digits(char* out, unsigned value, int width) noexcept {
  for (int i = width - 1; i >= 0; --i) {
    out[i] = static_cast<char>('0' + value % 10);
    value /= 10;
  }
}

// Writes exactly iso8601_ms_length characters.
void write_iso8601_ms(std::int64_t unix_ms, char* out) noexcept {
  if (unix_ms < min_iso8601_unix_ms) unix_ms = min_iso8601_unix_ms;
  if (unix_ms > max_iso8601_unix_ms) unix_ms = max_iso8601_unix_ms;
  std::int64_t days = unix_ms / ms_per_day;
  std::int64_t rem = unix_ms % ms_per_day;
  if (rem < 0) {
    rem += ms_per_day;
    --days;
  }
  const civil_date date = civil_from_days(days);
  const auto ms_of_day = static_cast<unsigned>(rem);
  put_digits(out, static_cast<unsigned>(date.year), 4);
  out[4] = '-';
  put_digits(out + 5, date.month, 2);
  out[7] = '-';
  put_digits(out + 8, date.day, 2);
  out[10] = 'T';
  put_digits(out + 11, ms_of_day / 3'600'000, 2);
  out[13] = ':';
  put_digits(out + 14, ms_of_day / 60'000 % 60, 2);
  out[16] = ':';
  put_digits(out + 17, ms_of_day / 1000 % 60, 2);
  out[19] = '.';
  put_digits(out + 20, ms_of_day % 1000, 3);
  out[23] = 'Z';
}

// Reads exactly `width` decimal digits at text[pos]; advances pos.
bool read_digits(std::string_view text, std::size_t& pos, int width, unsigned& value) noexcept {
  if (text.size() - pos < static_cast<std::size_t>(width)) return false;
  value = 0;
  for (int i = 0; i < width; ++i) {
    const char c = text[pos + static_cast<std::size_t>(i)];
    if (c < '0' || c > '9') return false;
    value = value * 10 + static_cast<unsigned>(c - '0');
  }
  pos += static_cast<std::size_t>(width);
  return true;
}

bool read_char(std::string_view text, std::size_t& pos, char expected) noexcept {
  if (pos >= text.size() || text[pos] != expected) return false;
  ++pos;
  return true;
}

}  // namespace

std::string format_iso8601_ms(std::int64_t unix_ms) {
  std::string out(iso8601_ms_length, '\0');
  write_iso8601_ms(unix_ms, out.data());
  return out;
}

void append_iso8601_ms(std::int64_t unix_ms, std::string& out) {
  char buffer[iso8601_ms_length];
  write_iso8601_ms(unix_ms, buffer);
  out.append(buffer, iso8601_ms_length);
}

std::optional<std::int64_t> parse_iso8601_ms(std::string_view text) noexcept {
  std::size_t pos = 0;
  unsigned year, month, day, hour, minute, second;
  if (!read_digits(text, pos, 4, year) || !read_char(text, pos, '-') || !read_digits(text, pos, 2, month) ||
      !read_char(text, pos, '-') || !read_digits(text, pos, 2, day)) {
    return std::nullopt;
  }
  if (pos >= text.size() || (text[pos] != 'T' && text[pos] != 't')) return std::nullopt;
  ++pos;
  if (!read_digits(text, pos, 2, hour) || !read_char(text, pos, ':') || !read_digits(text, pos, 2, minute) ||
      !read_char(text, pos, ':') || !read_digits(text, pos, 2, second)) {
    return std::nullopt;
  }
  if (month < 1 || month > 12 || day < 1 || day > days_in_month(year, month) || hour > 23 || minute > 59 ||
      second > 59) {
    return std::nullopt;
  }

  unsigned millis = 0;
  if (pos < text.size() && text[pos] == '.') {
    ++pos;
    int digits = 0;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
      if (digits < 3) millis = millis * 10 + static_cast<unsigned>(text[pos] - '0');
      ++digits;
      ++pos;
    }
    if (digits == 0 || digits > 9) return std::nullopt;
    for (int i = digits; i < 3; ++i) millis *= 10;
  }

  std::int64_t offset_minutes = 0;
  if (pos >= text.size()) return std::nullopt;
  if (text[pos] == 'Z' || text[pos] == 'z') {
    ++pos;
  } else if (text[pos] == '+' || text[pos] == '-') {
    const bool negative = text[pos] == '-';
    ++pos;
    unsigned off_hour, off_minute;
    if (!read_digits(text, pos, 2, off_hour) || !read_char(text, pos, ':') || !read_digits(text, pos, 2, off_minute) ||
        off_hour > 23 || off_minute > 59) {
      return std::nullopt;
    }
    offset_minutes = static_cast<std::int64_t>(off_hour) * 60 + off_minute;
    if (negative) offset_minutes = -offset_minutes;
  } else {
    return std::nullopt;
  }
  if (pos != text.size()) return std::nullopt;

  const std::int64_t days = days_from_civil(year, month, day);
  const std::int64_t local_ms = days * ms_per_day + static_cast<std::int64_t>(hour) * 3'600'000 +
                                static_cast<std::int64_t>(minute) * 60'000 + static_cast<std::int64_t>(second) * 1000 +
                                millis;
  return local_ms - offset_minutes * 60'000;
}

std::int64_t now_unix_ms() noexcept {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

}  // namespace chat::common
