#include "api/byte_range.hpp"

#include <charconv>
#include <optional>

namespace chat::chatd::api {
namespace {

std::string_view trim_spaces(std::string_view s) noexcept {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Decimal digits only, at most 2^63-1.
std::optional<std::uint64_t> digits(std::string_view s) noexcept {
  if (s.empty() || s.size() > 19) return std::nullopt;
  std::uint64_t v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || end != s.data() + s.size() || v > 0x7FFFFFFFFFFFFFFFULL) return std::nullopt;
  return v;
}

bool iequals_ascii(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

}  // namespace

range_request parse_range(std::string_view header, std::uint64_t size) noexcept {
  const range_request whole{};
  const range_request unsatisfiable{range_kind::unsatisfiable, {}};
  header = trim_spaces(header);
  const auto eq = header.find('=');
  if (eq == std::string_view::npos || !iequals_ascii(trim_spaces(header.substr(0, eq)), "bytes")) return whole;
  const std::string_view spec = trim_spaces(header.substr(eq + 1));
  if (spec.find(',') != std::string_view::npos) return whole;
  const auto dash = spec.find('-');
  if (dash == std::string_view::npos) return whole;
  const std::string_view first_text = spec.substr(0, dash);
  const std::string_view last_text = spec.substr(dash + 1);
  if (first_text.empty()) {
    const auto suffix = digits(last_text);
    if (!suffix) return whole;
    if (*suffix == 0 || size == 0) return unsatisfiable;
    const std::uint64_t n = *suffix < size ? *suffix : size;
    return {range_kind::partial, {size - n, size - 1}};
  }
  const auto first = digits(first_text);
  if (!first) return whole;
  std::uint64_t last = 0;
  if (last_text.empty()) {
    if (*first >= size) return unsatisfiable;
    last = size - 1;
  } else {
    const auto given = digits(last_text);
    if (!given || *given < *first) return whole;
    if (*first >= size) return unsatisfiable;
    last = *given < size ? *given : size - 1;
  }
  return {range_kind::partial, {*first, last}};
}

}  // namespace chat::chatd::api
