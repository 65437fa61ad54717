#pragma once
#include <string_view>

namespace chat::chatd {
inline constexpr std::string_view chatd_version = "0.1.0";
}
