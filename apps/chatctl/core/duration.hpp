#pragma once
// Durations on the command line: "250ms", "10s", "2m", "1h", or a plain number of seconds
// ("1.5"). Positive and at most 24 h.
#include <chrono>
#include <optional>
#include <string_view>

namespace chatctl {

std::optional<std::chrono::milliseconds> parse_duration(std::string_view text) noexcept;

}  // namespace chatctl
