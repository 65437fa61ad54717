#include "mix.hpp"

#include <algorithm>
#include <charconv>

namespace chatload {

namespace {

constexpr std::array<const char*, action_count> action_names = {"send", "edit", "delete", "react"};
constexpr std::uint32_t max_weight = 1'000'000;

std::uint64_t splitmix64(std::uint64_t x) noexcept {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

void append_int(std::string& out, std::int64_t v) {
  char text[24];
  out.append(text, std::to_chars(text, text + sizeof text, v).ptr);
}

void open_body(std::string& out, std::int64_t room_id, std::int64_t target_id) {
  out.clear();
  out += "{\"roomId\":";
  append_int(out, room_id);
  out += ",\"targetId\":";
  append_int(out, target_id);
}

void close_body(std::string& out, std::string_view key) {
  out += ",\"messageKey\":\"";
  out += key;
  out += "\"}";
}

}  // namespace

const char* to_string(action a) noexcept { return action_names[static_cast<std::size_t>(a)]; }

const char* to_string(event_index e) noexcept {
  switch (e) {
    case event_index::message: return "message";
    case event_index::edited: return "message.edited";
    case event_index::deleted: return "message.deleted";
    case event_index::reaction_added: return "reaction.added";
    case event_index::reaction_removed: return "reaction.removed";
  }
  return "?";
}

std::uint32_t mix::total() const noexcept {
  std::uint32_t t = 0;
  for (const auto w : weights) t += w;
  return t;
}

action mix::pick(std::uint64_t g, std::uint64_t nonce) const noexcept {
  const std::uint32_t sum = total();
  if (sum == 0 || send_only()) return action::send;
  std::uint64_t draw = splitmix64(g ^ splitmix64(nonce)) % sum;
  for (std::size_t i = 0; i < action_count; ++i) {
    if (draw < weights[i]) return static_cast<action>(i);
    draw -= weights[i];
  }
  return action::send;
}

std::string mix::text() const {
  std::string out;
  for (std::size_t i = 0; i < action_count; ++i) {
    if (weights[i] == 0) continue;
    if (!out.empty()) out += ',';
    out += action_names[i];
    out += '=';
    out += std::to_string(weights[i]);
  }
  return out;
}

std::optional<mix> parse_mix(std::string_view text, std::string& why) {
  mix m;
  m.weights = {0, 0, 0, 0};
  std::array<bool, action_count> seen{};
  if (text.empty()) {
    why = "--mix: empty; expected e.g. send=80,edit=5,delete=5,react=10";
    return std::nullopt;
  }
  while (!text.empty()) {
    const auto comma = text.find(',');
    const auto item = text.substr(0, comma);
    text = comma == std::string_view::npos ? std::string_view{} : text.substr(comma + 1);
    if (comma != std::string_view::npos && text.empty()) {
      why = "--mix: a trailing comma";
      return std::nullopt;
    }
    const auto eq = item.find('=');
    if (eq == std::string_view::npos) {
      why = "--mix: '" + std::string(item) + "' is not NAME=WEIGHT";
      return std::nullopt;
    }
    const auto name = item.substr(0, eq);
    const auto value = item.substr(eq + 1);
    const auto it = std::find_if(action_names.begin(), action_names.end(), [&](const char* n) { return name == n; });
    if (it == action_names.end()) {
      why = "--mix: unknown action '" + std::string(name) + "' (send, edit, delete, react)";
      return std::nullopt;
    }
    const auto index = static_cast<std::size_t>(it - action_names.begin());
    if (seen[index]) {
      why = "--mix: '" + std::string(name) + "' given twice";
      return std::nullopt;
    }
    seen[index] = true;
    std::uint32_t w = 0;
    const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), w);
    if (value.empty() || ec != std::errc{} || end != value.data() + value.size() || w > max_weight) {
      why = "--mix: the weight of '" + std::string(name) + "' must be an integer 0-1000000, not '" +
            std::string(value) + "'";
      return std::nullopt;
    }
    m.weights[index] = w;
  }
  if (m.total() == 0) {
    why = "--mix: every weight is 0";
    return std::nullopt;
  }
  return m;
}

void remember_own(std::vector<own_message>& own, std::int64_t id, std::int64_t now_ns) {
  if (own.size() >= own_message_window) own.erase(own.begin());
  own.push_back({id, 0, now_ns});
}

own_message* pick_target(std::vector<own_message>& own, std::uint64_t g, std::int64_t now_ns,
                         std::int64_t min_age_ns) noexcept {
  // Receipted in order: the old enough ones are a prefix.
  std::size_t eligible = 0;
  while (eligible < own.size() && own[eligible].receipted_ns <= now_ns - min_age_ns) ++eligible;
  if (eligible == 0) return nullptr;
  return &own[static_cast<std::size_t>(splitmix64(g) % eligible)];
}

void forget_own(std::vector<own_message>& own, std::int64_t id) noexcept {
  std::erase_if(own, [id](const own_message& m) { return m.id == id; });
}

void edit_body(std::string& out, std::int64_t room_id, std::int64_t target_id, std::string_view payload,
               std::string_view key) {
  open_body(out, room_id, target_id);
  out += ",\"content\":\"";
  out += payload;  // the payload is ASCII without quotes or backslashes
  out += '"';
  close_body(out, key);
}

void delete_body(std::string& out, std::int64_t room_id, std::int64_t target_id, std::string_view key) {
  open_body(out, room_id, target_id);
  close_body(out, key);
}

void react_body(std::string& out, std::int64_t room_id, std::int64_t target_id, std::string_view emoji, bool remove,
                std::string_view key) {
  open_body(out, room_id, target_id);
  out += ",\"emoji\":\"";
  out += emoji;
  out += '"';
  if (remove) out += ",\"remove\":true";
  close_body(out, key);
}

std::optional<std::int64_t> body_event_id(std::string_view body) noexcept {
  constexpr std::string_view head = "{\"id\":";
  if (!body.starts_with(head)) return std::nullopt;
  std::int64_t id = 0;
  const auto [end, ec] = std::from_chars(body.data() + head.size(), body.data() + body.size(), id);
  if (ec != std::errc{} || end == body.data() + head.size()) return std::nullopt;
  return id;
}

std::optional<std::string_view> body_message_key(std::string_view body) noexcept {
  constexpr std::string_view member = "\"messageKey\":\"";
  const auto pos = body.find(member);
  if (pos == std::string_view::npos) return std::nullopt;
  const auto start = pos + member.size();
  const auto end = body.find('"', start);
  if (end == std::string_view::npos) return std::nullopt;
  return body.substr(start, end - start);
}

}  // namespace chatload
