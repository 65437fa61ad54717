#include "core/ledger_entry.hpp"

#include <chat/common/time.hpp>

#include <nlohmann/json.hpp>

#include <limits>

namespace dlt_replay {

using json = nlohmann::ordered_json;

namespace {

json position_json(const position& p) {
  return json{{"topic", p.topic}, {"partition", p.partition}, {"offset", p.offset}};
}

std::optional<position> position_of(const json& j) {
  if (!j.is_object()) return std::nullopt;
  const auto t = j.find("topic");
  const auto p = j.find("partition");
  const auto o = j.find("offset");
  if (t == j.end() || p == j.end() || o == j.end() || !t->is_string() || !p->is_number_integer() ||
      !o->is_number_integer()) {
    return std::nullopt;
  }
  const auto partition = p->get<std::int64_t>();
  if (partition < -1 || partition > std::numeric_limits<std::int32_t>::max()) return std::nullopt;
  return position{t->get<std::string>(), static_cast<std::int32_t>(partition), o->get<std::int64_t>()};
}

}  // namespace

std::string ledger_key(const position& dlt) { return to_string(dlt); }

std::string encode_ledger_entry(const ledger_entry& e) {
  json j;
  j["v"] = 1;
  switch (e.action) {
    case ledger_action::replayed: j["action"] = "replayed"; break;
    case ledger_action::parked: j["action"] = "parked"; break;
  }
  j["dlt"] = position_json(e.dlt);
  j["origin"] = e.origin ? position_json(*e.origin) : json(nullptr);
  j["target"] = position_json(e.target);
  j["replayCount"] = e.replay_count;
  j["at"] = chat::common::format_iso8601_ms(e.at_ms);
  j["by"] = e.by;
  return j.dump();
}

std::optional<ledger_entry> decode_ledger_entry(std::string_view value) {
  const auto j = json::parse(value, nullptr, false);
  if (!j.is_object() || j.value("v", 0) != 1) return std::nullopt;
  ledger_entry e;
  const auto action = j.value("action", std::string());
  if (action == "replayed") {
    e.action = ledger_action::replayed;
  } else if (action == "parked") {
    e.action = ledger_action::parked;
  } else {
    return std::nullopt;
  }
  const auto dlt = position_of(j.value("dlt", json()));
  if (!dlt) return std::nullopt;
  e.dlt = *dlt;
  if (const auto o = j.find("origin"); o != j.end() && !o->is_null()) e.origin = position_of(*o);
  e.target = position_of(j.value("target", json())).value_or(position{});
  if (const auto c = j.find("replayCount"); c != j.end() && c->is_number_integer()) {
    e.replay_count = static_cast<std::int32_t>(c->get<std::int64_t>());
  }
  if (const auto at = j.find("at"); at != j.end() && at->is_string()) {
    e.at_ms = chat::common::parse_iso8601_ms(at->get<std::string>()).value_or(0);
  }
  if (const auto by = j.find("by"); by != j.end() && by->is_string()) e.by = by->get<std::string>();
  return e;
}

std::optional<position> origin_of(const dead_letter_info& info) {
  if (!info.origin_topic || !info.origin_partition || !info.origin_offset) return std::nullopt;
  return position{*info.origin_topic, *info.origin_partition, *info.origin_offset};
}

void ledger_view::add(const ledger_entry& e) {
  dead_letters_.insert(ledger_key(e.dlt));
  if (e.action == ledger_action::replayed && e.origin) origins_.insert(to_string(*e.origin));
}

bool ledger_view::has_dead_letter(const position& dlt) const { return dead_letters_.count(ledger_key(dlt)) != 0; }

bool ledger_view::has_origin(const position& origin) const { return origins_.count(to_string(origin)) != 0; }

}  // namespace dlt_replay
