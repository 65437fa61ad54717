#pragma once
// Everything dlt-replay prints, as pure functions over a stream:
//   table  for humans: aligned columns (list), labelled blocks (show, dry-run), counts (stats);
//   json   one pretty-printed JSON document (list: an array);
//   jsonl  one compact JSON value per line.
// Text from records (keys, error messages, payloads) has its control characters escaped
// so that it can neither break a row nor drive the terminal.
#include "core/dead_letter.hpp"
#include "core/replay_plan.hpp"
#include "core/stats.hpp"

#include <nlohmann/json.hpp>

#include <iosfwd>
#include <optional>
#include <string>
#include <string_view>

namespace dlt_replay {

enum class output_format { table, json, jsonl };

std::optional<output_format> parse_output_format(std::string_view text) noexcept;

// Control characters (and DEL) as visible escapes (\n, \t, \x1b); invalid UTF-8 bytes as \xNN.
std::string sanitize(std::string_view text);

// `text` cut or padded to exactly `width` code points; a cut ends in "…".
std::string fit(std::string_view text, std::size_t width);

// list, table format: one header line, then one line per dead letter.
void write_list_header(std::ostream& os);
void write_list_row(std::ostream& os, const dead_letter& d);

// show, table format: every header decoded, the payload pretty-printed.
void write_show(std::ostream& os, const dead_letter& d);

nlohmann::ordered_json stats_json(const dead_letter_stats& s);
void write_stats(std::ostream& os, const dead_letter_stats& s);

// replay: one planned record (what is sent, and where), for --dry-run and the results.
nlohmann::ordered_json plan_json(const dead_letter& d, const plan_item& item);
void write_plan(std::ostream& os, const dead_letter& d, const plan_item& item);

nlohmann::ordered_json replay_summary_json(const replay_summary& s);
void write_replay_summary(std::ostream& os, const replay_summary& s, bool dry_run);

}  // namespace dlt_replay
