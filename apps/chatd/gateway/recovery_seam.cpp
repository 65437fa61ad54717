#include "gateway/recovery_seam.hpp"

#include <chat/proto/names.hpp>

#include <string>

namespace chat::gateway {

std::shared_ptr<const fanout_event> make_truncation_marker(std::int64_t room_id, std::int64_t from_id) {
  const auto room = std::to_string(room_id);
  const auto from = std::to_string(from_id);
  std::string json = R"({"event":"recovery.truncated","roomId":)";
  json.append(room).append(R"(,"fromId":)").append(from).push_back('}');
  auto event = std::make_shared<fanout_event>();
  event->kind = event_kind::room;
  event->room_id = room_id;
  event->id = -1;  // not a room event: no id of its own
  event->message_id = "t" + room + "-" + from;
  event->tail = make_json_tail(proto::room_destination(room_id), json, "recovery.truncated");
  return event;
}

recovery_seam::recovery_seam(std::int64_t room_id, std::int64_t since_id, std::size_t max_held)
    : room_id_(room_id), since_(since_id), max_held_(max_held), last_(since_id) {}

bool recovery_seam::hold(event_ptr event) {
  if (held_.size() >= max_held_) return false;
  held_.push_back(std::move(event));
  return true;
}

recovery_seam::outcome recovery_seam::finish(std::vector<event_ptr> stored, bool stored_truncated,
                                             bool store_complete) {
  outcome out;
  out.frames.reserve(stored.size() + held_.size() + 2);
  last_ = since_;
  if (stored_truncated && !stored.empty()) {
    out.frames.push_back(make_truncation_marker(room_id_, stored.front()->id));
    out.recovered = false;
  }
  for (auto& e : stored) {
    if (e->id <= last_) continue;
    last_ = e->id;
    out.frames.push_back(std::move(e));
    ++out.replayed;
  }
  std::size_t first_held = 0;
  while (first_held < held_.size() && held_[first_held]->id >= 0 && held_[first_held]->id <= last_) ++first_held;
  if (!store_complete) {
    // What follows starts at the first held event; with none, the next live one (> last).
    const std::int64_t from =
        first_held < held_.size() && held_[first_held]->id >= 0 ? held_[first_held]->id : last_ + 1;
    out.frames.push_back(make_truncation_marker(room_id_, from));
    out.recovered = false;
  }
  for (std::size_t i = first_held; i < held_.size(); ++i) {
    if (admit(*held_[i])) out.frames.push_back(std::move(held_[i]));
  }
  held_.clear();
  held_.shrink_to_fit();
  return out;
}

bool recovery_seam::admit(const fanout_event& event) {
  if (event.id < 0) return true;
  if (event.id <= last_) return false;
  last_ = event.id;
  return true;
}

}  // namespace chat::gateway
