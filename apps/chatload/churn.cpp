#include "churn.hpp"

#include <charconv>
#include <cmath>

namespace chatload {

std::optional<double> parse_churn(std::string_view text, std::uint32_t users, std::string& why) {
  const bool percent = text.ends_with('%');
  if (percent) text.remove_suffix(1);
  double value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc{} || end != text.data() + text.size() || !std::isfinite(value) || value <= 0) {
    why = "expected a positive number of sessions per second (50) or a percentage of --users (5%)";
    return std::nullopt;
  }
  if (percent) {
    if (value > 100) {
      why = "at most 100% of the sessions per second";
      return std::nullopt;
    }
    value = value / 100.0 * users;
    if (value <= 0) {
      why = "no session to drop";
      return std::nullopt;
    }
  }
  if (value > 100000) {
    why = "at most 100000 drops per second";
    return std::nullopt;
  }
  return value;
}

std::int64_t churn_schedule::due_offset_ns(std::uint64_t i) const noexcept {
  if (rate <= 0) return 0;
  return static_cast<std::int64_t>(std::llround(static_cast<double>(i) * 1e9 / rate));
}

std::uint32_t churn_schedule::victim(std::uint64_t i, std::uint32_t sessions) noexcept {
  if (sessions == 0) return 0;
  // splitmix64: consecutive i give unrelated, evenly spread values.
  std::uint64_t z = i + 0x9e3779b97f4a7c15ULL;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  z ^= z >> 31;
  return static_cast<std::uint32_t>(z % sessions);
}

room_frame classify_room_frame(const chat::stomp::frame& f, std::int64_t& event_id) noexcept {
  const auto event = f.get("chat-event");
  if (event == "read") return room_frame::read_mark;
  if (event == "recovery.truncated") return room_frame::truncated;
  const auto id = f.get("message-id");
  if (!id || id->empty()) return room_frame::other;
  std::int64_t value = 0;
  const auto [end, ec] = std::from_chars(id->data(), id->data() + id->size(), value);
  if (ec != std::errc{} || end != id->data() + id->size() || value < 0) return room_frame::other;
  event_id = value;
  return room_frame::event;
}

}  // namespace chatload
