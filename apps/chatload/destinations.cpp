#include "destinations.hpp"

#include <chat/proto/names.hpp>

#include <charconv>

namespace chatload {

namespace dest = chat::proto::destinations;

std::string expand_template(std::string_view tmpl, std::string_view room, std::string_view user) {
  std::string out;
  out.reserve(tmpl.size() + 16);
  for (std::size_t i = 0; i < tmpl.size();) {
    if (tmpl.substr(i).starts_with("{room}")) {
      out += room;
      i += 6;
    } else if (tmpl.substr(i).starts_with("{user}")) {
      out += user;
      i += 6;
    } else {
      out += tmpl[i++];
    }
  }
  return out;
}

std::string room_destination_template() { return std::string(dest::room_prefix) + "{room}"; }

std::string_view chatd_send_destination() noexcept { return dest::app_send; }

std::string stomp_dialect::subscribe_destination(std::int64_t room_id, std::uint32_t user) const {
  if (!generic_) return chat::proto::room_destination(room_id);
  return expand_template(sub_template_, std::to_string(room_id), std::to_string(user));
}

std::string stomp_dialect::send_destination(std::int64_t room_id, std::uint32_t user) const {
  if (!generic_) return {};
  return expand_template(send_template_, std::to_string(room_id), std::to_string(user));
}

std::optional<std::string_view> stomp_dialect::error_queue() const noexcept {
  if (generic_) return std::nullopt;
  return dest::user_errors;
}

std::string_view stomp_dialect::send_body(std::string& scratch, std::string_view payload, std::int64_t room_id,
                                          std::string_view message_key) const {
  if (generic_) return payload;
  scratch.clear();
  scratch += "{\"roomId\":";
  char room[24];
  scratch.append(room, std::to_chars(room, room + sizeof room, room_id).ptr);
  scratch += ",\"content\":\"";
  scratch += payload;
  scratch += "\",\"messageKey\":\"";
  scratch += message_key;
  scratch += "\"}";
  return scratch;
}

}  // namespace chatload
