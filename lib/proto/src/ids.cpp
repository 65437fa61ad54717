#include <chat/proto/ids.hpp>

#include <charconv>

namespace chat::proto {

std::optional<std::int64_t> parse_positive_id(std::string_view text) noexcept {
  if (text.empty() || text.size() > 19 || text.front() < '1' || text.front() > '9') return std::nullopt;
  std::int64_t value = 0;
  const char* const end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (ec != std::errc{} || ptr != end) return std::nullopt;  // non-digits, or above 2^63-1
  return value;
}

}  // namespace chat::proto
