#include "core/record_json.hpp"

#include "core/bytes.hpp"
#include "core/dialect.hpp"

#include <chat/common/time.hpp>
#include <chat/common/utf8.hpp>

#include <limits>

namespace dlt_replay {

using json = nlohmann::ordered_json;

namespace {

template <class T>
json opt(const std::optional<T>& v) {
  return v ? json(*v) : json(nullptr);
}

json opt_time(const std::optional<std::int64_t>& ms) {
  return ms ? json(chat::common::format_iso8601_ms(*ms)) : json(nullptr);
}

json time_or_null(std::int64_t ms) { return ms >= 0 ? json(chat::common::format_iso8601_ms(ms)) : json(nullptr); }

json dlt_json(const dead_letter& d, bool with_timestamp) {
  json j{{"topic", d.dlt.topic}, {"partition", d.dlt.partition}, {"offset", d.dlt.offset}};
  if (with_timestamp) j["timestamp"] = time_or_null(d.timestamp_ms);
  return j;
}

json origin_json(const dead_letter_info& i, bool full) {
  json j{{"topic", opt(i.origin_topic)}, {"partition", opt(i.origin_partition)}, {"offset", opt(i.origin_offset)}};
  if (full) j["timestamp"] = opt_time(i.origin_timestamp_ms);
  j["consumerGroup"] = opt(i.consumer_group);
  if (i.connector) j["connector"] = *i.connector;
  if (full && i.task_id) j["taskId"] = *i.task_id;
  if (full && i.stage) j["stage"] = *i.stage;
  return j;
}

json error_json(const dead_letter_info& i, bool full) {
  json j{{"class", opt(i.error_class)}, {"message", opt(i.error_message)}};
  if (full) {
    j["attempts"] = opt(i.attempts);
    j["failedAt"] = opt_time(i.failed_at_ms);
    if (i.stacktrace) j["stacktrace"] = *i.stacktrace;
  }
  return j;
}

json header_json(const header& h) {
  json j{{"name", h.name}};
  const auto meaning = describe(h);
  if (is_printable_text(h.value)) {
    j["value"] = h.value;
  } else {
    j["base64"] = encode_base64(h.value);
  }
  if (meaning.binary) j["decoded"] = *meaning.number;
  if (meaning.timestamp) j["time"] = chat::common::format_iso8601_ms(*meaning.number);
  return j;
}

// Bytes from a "key" / "value" member and its "…Format".
std::optional<std::string> bytes_of(const json& v, std::string_view format, std::string_view what, std::string& error) {
  if (format == "base64") {
    if (!v.is_string()) {
      error = std::string(what) + ": base64 format needs a string";
      return std::nullopt;
    }
    auto decoded = decode_base64(v.get<std::string>());
    if (!decoded) error = std::string(what) + ": not valid base64";
    return decoded;
  }
  if (!format.empty() && format != "json" && format != "text") {
    error = std::string(what) + "Format: unknown format \"" + std::string(format) + "\" (json, text or base64)";
    return std::nullopt;
  }
  if (v.is_string() && format != "json") return v.get<std::string>();
  return v.dump();
}

std::string format_member(const json& j, const char* name, std::string& error) {
  const auto it = j.find(name);
  if (it == j.end() || it->is_null()) return {};
  if (!it->is_string()) {
    error = std::string(name) + ": must be a string";
    return {};
  }
  return it->get<std::string>();
}

template <class T>
bool int_member(const json& obj, const char* name, std::optional<T>& out, std::string& error, const char* where) {
  const auto it = obj.find(name);
  if (it == obj.end() || it->is_null()) {
    out.reset();
    return true;
  }
  if (!it->is_number_integer() || it->get<std::int64_t>() < 0 ||
      it->get<std::int64_t>() > std::numeric_limits<T>::max()) {
    error = std::string(where) + "." + name + ": must be a non-negative integer";
    return false;
  }
  out = static_cast<T>(it->get<std::int64_t>());
  return true;
}

}  // namespace

std::string_view value_format(std::string_view bytes) {
  if (!chat::common::is_valid_utf8(bytes)) return "base64";
  const auto doc = json::parse(bytes, nullptr, false);
  if (!doc.is_discarded() && (doc.is_object() || doc.is_array()) && doc.dump() == bytes) return "json";
  return "text";
}

json to_json(const dead_letter& d) {
  const auto& i = d.info;
  json j;
  j["dlt"] = dlt_json(d, true);
  j["origin"] = origin_json(i, true);
  j["error"] = error_json(i, true);
  j["dialect"] = std::string(to_string(i.kind));
  j["deadLetterCount"] = i.dead_letter_count;
  j["replayCount"] = i.replay_count;
  if (i.replayed_from) j["replayedFrom"] = *i.replayed_from;
  if (!i.problems.empty()) j["problems"] = i.problems;
  if (!d.key) {
    j["key"] = nullptr;
  } else if (chat::common::is_valid_utf8(*d.key)) {
    j["key"] = *d.key;
  } else {
    j["key"] = encode_base64(*d.key);
    j["keyFormat"] = "base64";
  }
  const auto format = value_format(d.value);
  if (format == "json") {
    j["value"] = json::parse(d.value);
  } else if (format == "text") {
    j["value"] = d.value;
  } else {
    j["value"] = encode_base64(d.value);
  }
  j["valueFormat"] = std::string(format);
  json headers = json::array();
  for (const auto& h : d.headers) headers.push_back(header_json(h));
  j["headers"] = std::move(headers);
  return j;
}

json summary_json(const dead_letter& d) {
  json j;
  j["dlt"] = dlt_json(d, false);
  j["time"] = opt_time(d.time_ms());
  j["origin"] = origin_json(d.info, false);
  j["error"] = error_json(d.info, false);
  j["key"] = d.key && chat::common::is_valid_utf8(*d.key) ? json(*d.key) : json(nullptr);
  j["room"] = opt(d.room());
  j["event"] = opt(payload_event(d.value));
  j["valueSize"] = d.value.size();
  j["replayCount"] = d.info.replay_count;
  j["dialect"] = std::string(to_string(d.info.kind));
  return j;
}

parsed_record from_json(const json& j) {
  parsed_record out;
  auto& error = out.error;
  if (!j.is_object()) {
    error = "not a JSON object";
    return out;
  }
  dead_letter d;

  const auto dlt = j.find("dlt");
  if (dlt == j.end() || !dlt->is_object() || !dlt->contains("topic") || !(*dlt)["topic"].is_string()) {
    error = "dlt: missing; dlt.topic, dlt.partition and dlt.offset say which dead letter this is";
    return out;
  }
  d.dlt.topic = (*dlt)["topic"].get<std::string>();
  std::optional<std::int32_t> dlt_partition;
  std::optional<std::int64_t> dlt_offset;
  if (!int_member(*dlt, "partition", dlt_partition, error, "dlt") ||
      !int_member(*dlt, "offset", dlt_offset, error, "dlt"))
    return out;
  if (!dlt_partition || !dlt_offset) {
    error = "dlt: partition and offset are required";
    return out;
  }
  d.dlt.partition = *dlt_partition;
  d.dlt.offset = *dlt_offset;
  if (const auto ts = dlt->find("timestamp"); ts != dlt->end() && ts->is_string()) {
    d.timestamp_ms = chat::common::parse_iso8601_ms(ts->get<std::string>()).value_or(-1);
  }

  if (const auto hs = j.find("headers"); hs != j.end() && !hs->is_null()) {
    if (!hs->is_array()) {
      error = "headers: must be an array";
      return out;
    }
    for (const auto& h : *hs) {
      if (!h.is_object() || !h.contains("name") || !h["name"].is_string()) {
        error = "headers: every header needs a \"name\"";
        return out;
      }
      header parsed{h["name"].get<std::string>(), {}};
      if (const auto b = h.find("base64"); b != h.end()) {
        auto bytes = b->is_string() ? decode_base64(b->get<std::string>()) : std::nullopt;
        if (!bytes) {
          error = "headers: " + parsed.name + ": base64 is not valid";
          return out;
        }
        parsed.value = std::move(*bytes);
      } else if (const auto v = h.find("value"); v != h.end() && !v->is_null()) {
        if (!v->is_string()) {
          error = "headers: " + parsed.name + ": value must be a string";
          return out;
        }
        parsed.value = v->get<std::string>();
      }
      d.headers.push_back(std::move(parsed));
    }
  }

  const auto key_format = format_member(j, "keyFormat", error);
  if (!error.empty()) return out;
  if (const auto k = j.find("key"); k != j.end() && !k->is_null()) {
    auto bytes = bytes_of(*k, key_format, "key", error);
    if (!bytes) return out;
    d.key = std::move(*bytes);
  }
  const auto value_fmt = format_member(j, "valueFormat", error);
  if (!error.empty()) return out;
  if (const auto v = j.find("value"); v != j.end() && !v->is_null()) {
    auto bytes = bytes_of(*v, value_fmt, "value", error);
    if (!bytes) return out;
    d.value = std::move(*bytes);
  }

  d.info = normalise(d.headers);
  // The origin in the file wins over the headers: it is what an SRE edits to redirect.
  if (const auto o = j.find("origin"); o != j.end() && o->is_object()) {
    if (const auto t = o->find("topic"); t != o->end()) {
      if (t->is_string()) {
        d.info.origin_topic = t->get<std::string>();
      } else if (t->is_null()) {
        d.info.origin_topic.reset();
      } else {
        error = "origin.topic: must be a string or null";
        return out;
      }
    }
    if (o->contains("partition") && !int_member(*o, "partition", d.info.origin_partition, error, "origin")) return out;
    if (o->contains("offset") && !int_member(*o, "offset", d.info.origin_offset, error, "origin")) return out;
  }
  out.record = std::move(d);
  return out;
}

parsed_record from_json_line(std::string_view line) {
  const auto doc = json::parse(line, nullptr, false);
  if (doc.is_discarded()) return parsed_record{std::nullopt, "not valid JSON"};
  return from_json(doc);
}

}  // namespace dlt_replay
