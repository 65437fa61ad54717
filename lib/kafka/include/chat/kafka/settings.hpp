#pragma once
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace chat::kafka {

// librdkafka configuration properties, applied in order ("bootstrap.servers", …).
using settings = std::vector<std::pair<std::string, std::string>>;

// Whether librdkafka accepts every property (name and value), without connecting anywhere:
// nullopt, or "kafka setting <name>: <librdkafka's reason>" for the first it refuses.
std::optional<std::string> check_settings(const settings& s);

}  // namespace chat::kafka
