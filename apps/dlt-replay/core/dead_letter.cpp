#include "core/dead_letter.hpp"

#include "core/bytes.hpp"

#include <nlohmann/json.hpp>

#include <limits>

namespace dlt_replay {

std::string to_string(const position& p) {
  return p.topic + ':' + std::to_string(p.partition) + ':' + std::to_string(p.offset);
}

std::optional<position> parse_position(std::string_view text) {
  const auto last = text.rfind(':');
  if (last == std::string_view::npos || last == 0) return std::nullopt;
  const auto middle = text.rfind(':', last - 1);
  if (middle == std::string_view::npos || middle == 0) return std::nullopt;
  const auto partition = parse_decimal(text.substr(middle + 1, last - middle - 1));
  const auto offset = parse_decimal(text.substr(last + 1));
  if (!partition || !offset || *partition < 0 || *partition > std::numeric_limits<std::int32_t>::max() || *offset < 0) {
    return std::nullopt;
  }
  return position{std::string(text.substr(0, middle)), static_cast<std::int32_t>(*partition), *offset};
}

std::string_view to_string(dialect d) noexcept {
  switch (d) {
    case dialect::chat: return "chat";
    case dialect::spring: return "spring";
    case dialect::connect: return "connect";
    case dialect::none: return "none";
  }
  return "none";
}

std::optional<dialect> parse_dialect(std::string_view text) noexcept {
  for (const auto d : {dialect::chat, dialect::spring, dialect::connect, dialect::none}) {
    if (text == to_string(d)) return d;
  }
  return std::nullopt;
}

std::optional<std::int64_t> dead_letter::time_ms() const noexcept {
  if (info.failed_at_ms) return info.failed_at_ms;
  if (timestamp_ms >= 0) return timestamp_ms;
  return std::nullopt;
}

std::optional<std::string> dead_letter::room() const {
  if (key) {
    if (const auto id = parse_decimal(*key); id && *id > 0) return *key;
  }
  return payload_room_id(value);
}

std::optional<std::string> payload_event(std::string_view value) {
  const auto doc = nlohmann::json::parse(value, nullptr, false);
  if (!doc.is_object()) return std::nullopt;
  if (const auto it = doc.find("event"); it != doc.end()) {
    if (it->is_string()) return it->get<std::string>();
    return std::nullopt;
  }
  if (doc.contains("content")) return std::string("message");
  return std::nullopt;
}

std::optional<std::string> payload_room_id(std::string_view value) {
  const auto doc = nlohmann::json::parse(value, nullptr, false);
  if (!doc.is_object()) return std::nullopt;
  const auto it = doc.find("roomId");
  if (it == doc.end()) return std::nullopt;
  if (it->is_number_integer()) return std::to_string(it->get<std::int64_t>());
  if (it->is_string()) return it->get<std::string>();
  return std::nullopt;
}

}  // namespace dlt_replay
