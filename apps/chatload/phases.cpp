#include "phases.hpp"

#include <cctype>
#include <charconv>
#include <cmath>

namespace chatload {

namespace {
std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

bool parse_positive(std::string_view s, double& out) {
  s = trim(s);
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return !s.empty() && ec == std::errc{} && end == s.data() + s.size() && std::isfinite(out) && out > 0;
}
}  // namespace

std::optional<std::vector<rate_phase>> parse_phases(std::string_view text, std::string& why) {
  std::vector<rate_phase> phases;
  if (trim(text).empty()) {
    why = "--phases is empty (expected RATExSECONDS[,RATExSECONDS...], e.g. 3000x60,500x20)";
    return std::nullopt;
  }
  while (true) {
    const auto comma = text.find(',');
    const std::string_view item = trim(text.substr(0, comma));
    const auto x = item.find_first_of("xX");
    rate_phase p;
    if (x == std::string_view::npos || !parse_positive(item.substr(0, x), p.rate) ||
        !parse_positive(item.substr(x + 1), p.seconds)) {
      why = "--phases item '" + std::string(item) +
            "' is not RATExSECONDS with a positive rate and duration (e.g. 3000x60)";
      return std::nullopt;
    }
    phases.push_back(p);
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  return phases;
}

}  // namespace chatload
