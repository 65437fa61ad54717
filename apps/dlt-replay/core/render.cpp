#include "core/render.hpp"

#include "core/bytes.hpp"
#include "core/dialect.hpp"
#include "core/filter.hpp"
#include "core/record_json.hpp"

#include <chat/common/time.hpp>
#include <chat/common/utf8.hpp>

#include <algorithm>
#include <cstdio>
#include <ostream>
#include <vector>

namespace dlt_replay {

using json = nlohmann::ordered_json;

namespace {

// Column widths of `list` (the last column, ERROR, is not padded).
constexpr std::size_t w_position = 12;
constexpr std::size_t w_time = 24;
constexpr std::size_t w_origin = 30;
constexpr std::size_t w_group = 20;
constexpr std::size_t w_key = 14;
constexpr std::size_t w_size = 7;
constexpr std::size_t w_error = 100;

// Length of a UTF-8 sequence starting with `lead`, 0 if it is no lead byte.
std::size_t sequence_length(unsigned char lead) {
  if (lead < 0x80) return 1;
  if ((lead & 0xE0) == 0xC0) return 2;
  if ((lead & 0xF0) == 0xE0) return 3;
  if ((lead & 0xF8) == 0xF0) return 4;
  return 0;
}

// Splits sanitized text (valid UTF-8) into code points.
std::vector<std::string_view> code_points(std::string_view s) {
  std::vector<std::string_view> out;
  for (std::size_t i = 0; i < s.size();) {
    std::size_t n = sequence_length(static_cast<unsigned char>(s[i]));
    if (n == 0 || i + n > s.size()) n = 1;
    out.push_back(s.substr(i, n));
    i += n;
  }
  return out;
}

std::string origin_text(const dead_letter_info& i) {
  std::string out = i.origin_topic.value_or("?");
  out += ' ';
  out += i.origin_partition ? std::to_string(*i.origin_partition) : "?";
  out += ':';
  out += i.origin_offset ? std::to_string(*i.origin_offset) : "?";
  return out;
}

std::string group_text(const dead_letter_info& i) {
  if (i.consumer_group) return *i.consumer_group;
  if (i.connector) return "connector " + *i.connector;
  return "-";
}

std::string time_text(std::optional<std::int64_t> ms) {
  return ms ? chat::common::format_iso8601_ms(*ms) : std::string("-");
}

std::string key_text(const std::optional<std::string>& key) {
  if (!key) return "(none)";
  if (!chat::common::is_valid_utf8(*key)) return "base64:" + encode_base64(*key);
  return sanitize(*key);
}

std::string header_value_text(const header& h) {
  const auto m = describe(h);
  std::string out;
  if (m.binary) {
    out = std::to_string(*m.number);
  } else if (chat::common::is_valid_utf8(h.value)) {
    out = sanitize(h.value);
  } else {
    out = "base64:" + encode_base64(h.value);
  }
  if (m.timestamp) out += "  (" + chat::common::format_iso8601_ms(*m.number) + ")";
  if (m.binary) out += "  [" + std::to_string(h.value.size()) + "-byte big-endian]";
  return out;
}

// The payload for humans: JSON re-indented, text as is, anything else as base64.
void write_payload(std::ostream& os, std::string_view value, const std::string& indent) {
  const auto format = value_format(value);
  std::string body;
  if (format == "base64") {
    os << indent << "(not UTF-8; base64)\n";
    body = encode_base64(value);
  } else {
    const auto doc = json::parse(value, nullptr, false);
    body = doc.is_discarded() || !(doc.is_object() || doc.is_array()) ? std::string(value) : doc.dump(2);
  }
  std::size_t start = 0;
  while (start <= body.size()) {
    const auto end = body.find('\n', start);
    const auto line = body.substr(start, end == std::string::npos ? std::string::npos : end - start);
    os << indent << sanitize(line) << '\n';
    if (end == std::string::npos) break;
    start = end + 1;
  }
}

std::string error_text_or_dash(const dead_letter_info& i) {
  auto text = error_text(i);
  return text.empty() ? std::string("-") : text;
}

void field(std::ostream& os, std::string_view label, const std::string& value) {
  os << fit(label, 16) << value << '\n';
}

}  // namespace

std::optional<output_format> parse_output_format(std::string_view text) noexcept {
  if (text == "table") return output_format::table;
  if (text == "json") return output_format::json;
  if (text == "jsonl") return output_format::jsonl;
  return std::nullopt;
}

std::string sanitize(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size();) {
    const auto c = static_cast<unsigned char>(text[i]);
    const std::size_t n = sequence_length(c);
    if (n > 1 && i + n <= text.size() && chat::common::is_valid_utf8(text.substr(i, n))) {
      out.append(text.substr(i, n));
      i += n;
      continue;
    }
    char buf[8];
    if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c < 0x20 || c >= 0x7F) {
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
    ++i;
  }
  return out;
}

std::string fit(std::string_view text, std::size_t width) {
  const auto points = code_points(text);
  std::string out;
  if (points.size() > width) {
    for (std::size_t i = 0; i + 1 < width; ++i) out.append(points[i]);
    out += "\u2026";
    return out;
  }
  out.assign(text);
  out.append(width - points.size(), ' ');
  return out;
}

void write_list_header(std::ostream& os) {
  os << fit("P:OFFSET", w_position) << ' ' << fit("TIME", w_time) << ' ' << fit("ORIGIN", w_origin) << ' '
     << fit("GROUP", w_group) << ' ' << fit("KEY", w_key) << ' ' << fit("SIZE", w_size) << ' ' << "ERROR\n";
}

void write_list_row(std::ostream& os, const dead_letter& d) {
  const std::string position = std::to_string(d.dlt.partition) + ':' + std::to_string(d.dlt.offset);
  std::string size = std::to_string(d.value.size());
  if (size.size() < w_size) size.insert(0, w_size - size.size(), ' ');
  std::string error = sanitize(error_text_or_dash(d.info));
  const auto points = code_points(error);
  if (points.size() > w_error) error = fit(error, w_error);
  os << fit(position, w_position) << ' ' << fit(time_text(d.time_ms()), w_time) << ' '
     << fit(sanitize(origin_text(d.info)), w_origin) << ' ' << fit(sanitize(group_text(d.info)), w_group) << ' '
     << fit(key_text(d.key), w_key) << ' ' << size << ' ' << error << '\n';
}

void write_show(std::ostream& os, const dead_letter& d) {
  const auto& i = d.info;
  field(os, "dead letter",
        d.dlt.topic + ' ' + std::to_string(d.dlt.partition) + ':' + std::to_string(d.dlt.offset) + "  written " +
            time_text(d.timestamp_ms >= 0 ? std::optional(d.timestamp_ms) : std::nullopt));
  field(os, "dialect", std::string(to_string(i.kind)));
  field(os, "origin", sanitize(origin_text(i)) + "  created " + time_text(i.origin_timestamp_ms));
  field(os, "consumer group", sanitize(group_text(i)));
  if (const auto event = payload_event(d.value)) field(os, "room event", sanitize(*event));
  if (i.task_id || i.stage) {
    field(os, "connect task", sanitize(i.task_id.value_or("-")) + "  stage " + sanitize(i.stage.value_or("-")));
  }
  field(os, "error class", sanitize(i.error_class.value_or("-")));
  field(os, "error message", sanitize(i.error_message.value_or("-")));
  field(os, "attempts", i.attempts ? std::to_string(*i.attempts) : "-");
  field(os, "failed at", time_text(i.failed_at_ms));
  field(os, "dead-lettered", std::to_string(i.dead_letter_count) + (i.dead_letter_count == 1 ? " time" : " times"));
  field(os, "replay count",
        std::to_string(i.replay_count) +
            (i.replayed_from ? "  (last replayed from " + sanitize(*i.replayed_from) + ")" : ""));
  for (const auto& p : i.problems) field(os, "problem", sanitize(p));
  field(os, "key", key_text(d.key));
  os << "headers (" << d.headers.size() << ")\n";
  for (const auto& h : d.headers) {
    const bool stacktrace = std::string_view(h.name).ends_with("stacktrace");
    os << "  " << sanitize(h.name) << ": "
       << (stacktrace ? "(" + std::to_string(h.value.size()) + " bytes, below)" : header_value_text(h)) << '\n';
  }
  os << "value (" << d.value.size() << " bytes, " << value_format(d.value) << ")\n";
  write_payload(os, d.value, "  ");
  if (i.stacktrace) {
    os << "stacktrace\n";
    write_payload(os, *i.stacktrace, "  ");
  }
}

json stats_json(const dead_letter_stats& s) {
  json j;
  j["total"] = s.total;
  j["first"] = s.first_ms ? json(chat::common::format_iso8601_ms(*s.first_ms)) : json(nullptr);
  j["last"] = s.last_ms ? json(chat::common::format_iso8601_ms(*s.last_ms)) : json(nullptr);
  j["byErrorClass"] = s.by_error_class;
  j["byOriginTopic"] = s.by_origin_topic;
  j["byConsumerGroup"] = s.by_consumer_group;
  j["byHour"] = s.by_hour;
  return j;
}

void write_stats(std::ostream& os, const dead_letter_stats& s) {
  os << "dead letters: " << s.total;
  if (s.first_ms) os << "  from " << time_text(s.first_ms) << " to " << time_text(s.last_ms);
  os << '\n';
  const auto section = [&](std::string_view title, const std::map<std::string, std::size_t>& counts) {
    os << '\n' << title << '\n';
    // Largest first; the hour section stays in time order.
    std::vector<std::pair<std::string, std::size_t>> rows(counts.begin(), counts.end());
    if (title != "by hour (UTC)") {
      std::stable_sort(rows.begin(), rows.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
    }
    for (const auto& [name, n] : rows) {
      std::string count = std::to_string(n);
      if (count.size() < 8) count.insert(0, 8 - count.size(), ' ');
      os << count << "  " << sanitize(name) << '\n';
    }
  };
  section("by error class", s.by_error_class);
  section("by origin topic", s.by_origin_topic);
  section("by consumer group", s.by_consumer_group);
  section("by hour (UTC)", s.by_hour);
}

json plan_json(const dead_letter& d, const plan_item& item) {
  json j;
  j["dlt"] = json{{"topic", d.dlt.topic}, {"partition", d.dlt.partition}, {"offset", d.dlt.offset}};
  j["action"] = std::string(to_string(item.action));
  if (item.action == replay_action::send || item.action == replay_action::park) {
    j["target"] = json{{"topic", item.out.topic},
                       {"partition", item.out.partition >= 0 ? json(item.out.partition) : json(nullptr)}};
    dead_letter shown;
    shown.dlt = d.dlt;
    shown.key = item.out.key;
    shown.value = item.out.value;
    shown.headers = item.out.headers;
    const auto full = to_json(shown);
    j["key"] = full["key"];
    if (full.contains("keyFormat")) j["keyFormat"] = full["keyFormat"];
    j["value"] = full["value"];
    j["valueFormat"] = full["valueFormat"];
    j["headers"] = full["headers"];
  }
  if (!item.reason.empty()) j["reason"] = item.reason;
  return j;
}

void write_plan(std::ostream& os, const dead_letter& d, const plan_item& item) {
  const std::string from = d.dlt.topic + ' ' + std::to_string(d.dlt.partition) + ':' + std::to_string(d.dlt.offset);
  if (item.action != replay_action::send && item.action != replay_action::park) {
    os << fit(to_string(item.action), 17) << from << "  " << sanitize(item.reason) << '\n';
    return;
  }
  os << fit(to_string(item.action), 17) << from << "  ->  " << item.out.topic << " partition "
     << (item.out.partition >= 0 ? std::to_string(item.out.partition) : std::string("by key")) << '\n';
  if (!item.reason.empty()) os << "    reason  " << sanitize(item.reason) << '\n';
  os << "    key     " << key_text(item.out.key) << '\n';
  for (const auto& h : item.out.headers)
    os << "    header  " << sanitize(h.name) << ": " << header_value_text(h) << '\n';
  os << "    value   (" << item.out.value.size() << " bytes, " << value_format(item.out.value) << ")\n";
  write_payload(os, item.out.value, "      ");
}

json replay_summary_json(const replay_summary& s) {
  return json{{"selected", s.selected}, {"replayed", s.replayed}, {"parked", s.parked},        {"skipped", s.skipped},
              {"refused", s.refused},   {"failed", s.failed},     {"unrecorded", s.unrecorded}};
}

void write_replay_summary(std::ostream& os, const replay_summary& s, bool dry_run) {
  os << (dry_run ? "dry run (nothing sent): " : "") << "selected " << s.selected << ", "
     << (dry_run ? "would replay " : "replayed ") << s.replayed << ", " << (dry_run ? "would park " : "parked ")
     << s.parked << ", skipped " << s.skipped << ", refused " << s.refused << ", failed " << s.failed;
  if (s.unrecorded > 0) os << ", NOT RECORDED " << s.unrecorded;
  os << '\n';
}

}  // namespace dlt_replay
