#pragma once
#include <string>
#include <utility>
#include <vector>

namespace chat::kafka {

// librdkafka configuration properties, applied in order ("bootstrap.servers", …).
using settings = std::vector<std::pair<std::string, std::string>>;

}  // namespace chat::kafka
