#pragma once
// ASCII case-insensitive text helpers of the preview module (URL schemes, HTML tag and attribute
// names, media types): what HTTP and HTML compare without regard to case. Internal to preview/.
#include <cstddef>
#include <string_view>

namespace chat::chatd::preview::ascii {

constexpr char lower(char c) noexcept { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

// `text` equals `lower_case` (which is lower case) ignoring the case of `text`.
constexpr bool equals_nocase(std::string_view text, std::string_view lower_case) noexcept {
  if (text.size() != lower_case.size()) return false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (lower(text[i]) != lower_case[i]) return false;
  }
  return true;
}

constexpr bool starts_with_nocase(std::string_view text, std::string_view lower_case) noexcept {
  return text.size() >= lower_case.size() && equals_nocase(text.substr(0, lower_case.size()), lower_case);
}

// Position of `lower_case` in `text` from `from`, ignoring the case of `text`; npos when absent.
constexpr std::size_t find_nocase(std::string_view text, std::string_view lower_case, std::size_t from = 0) noexcept {
  if (lower_case.empty() || text.size() < lower_case.size()) return std::string_view::npos;
  for (std::size_t i = from; i + lower_case.size() <= text.size(); ++i) {
    if (lower(text[i]) == lower_case[0] && equals_nocase(text.substr(i, lower_case.size()), lower_case)) return i;
  }
  return std::string_view::npos;
}

}  // namespace chat::chatd::preview::ascii
