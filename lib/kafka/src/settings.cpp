#include <chat/kafka/settings.hpp>

#include "handle.hpp"

#include <stdexcept>

namespace chat::kafka {

std::optional<std::string> check_settings(const settings& s) {
  try {
    detail::make_conf(s);
  } catch (const std::runtime_error& e) {
    return std::string(e.what());
  }
  return std::nullopt;
}

}  // namespace chat::kafka
