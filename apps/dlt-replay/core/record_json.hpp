#pragma once
// The JSON forms of a dead letter.
//
// Record (export lines, `show -o json`, what `replay --from-file` reads back):
//   {"dlt":{"topic","partition","offset","timestamp"},
//    "origin":{"topic","partition","offset","timestamp","consumerGroup"[,"connector","taskId","stage"]},
//    "error":{"class","message","attempts","failedAt"[,"stacktrace"]},
//    "dialect":"chat|spring|connect|none","deadLetterCount":1,"replayCount":0,
//    "key":"42"|null[,"keyFormat":"base64"],
//    "value":…,"valueFormat":"json|text|base64",
//    "headers":[{"name":"…","value":"…"} | {"name":"…","base64":"…"}, …]}
// Bytes are carried exactly: a value is embedded as JSON ("json") only when re-serialising
// that JSON compactly gives back the very same bytes, else as a string ("text", valid
// UTF-8) or base64. A header value that is not printable UTF-8 (Spring's binary integers)
// is base64, with "decoded" (the integer) beside it; timestamp headers get "time".
//
// Read back: dlt, origin.topic/partition/offset, key, value and headers. Everything else
// is informational and recomputed from the headers. An edited value may change format:
// a JSON object/array is sent as its compact serialisation, a string as its text.
//
// Summary (`list -o json|jsonl`): dlt, time, origin, error (class, message), key, room, event
// (payload_event), valueSize, replayCount, dialect.
#include "core/dead_letter.hpp"

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <string_view>

namespace dlt_replay {

nlohmann::ordered_json to_json(const dead_letter& d);
nlohmann::ordered_json summary_json(const dead_letter& d);

struct parsed_record {
  std::optional<dead_letter> record;
  std::string error;  // why not, when record is empty
};

parsed_record from_json(const nlohmann::ordered_json& j);
// One line of an export file; blank lines are the caller's business.
parsed_record from_json_line(std::string_view line);

// How a value would be exported: "json", "text" or "base64".
std::string_view value_format(std::string_view bytes);

}  // namespace dlt_replay
