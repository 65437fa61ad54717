#pragma once
// --html FILE: one self-contained page (no external URL: inline CSS, inline JavaScript drawing
// on <canvas>) with the run's summary and three plots — latency percentiles per second,
// the percentile curve (latency against 1/(1-percentile) on a log axis, as HdrHistogram plots),
// and throughput sent/delivered per second. The report JSON is embedded and drawn from.
#include <nlohmann/json.hpp>

#include <ostream>

namespace chatload {

void write_html(std::ostream& out, const nlohmann::json& report);

}  // namespace chatload
