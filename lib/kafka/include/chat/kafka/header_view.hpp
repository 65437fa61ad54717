#pragma once
#include <string_view>

namespace chat::kafka {

// A record header. Views only: for producer::produce() they must stay valid during the
// call; from a record (consumer.hpp) they are valid while that record lives.
struct header_view {
  std::string_view name;
  std::string_view value;
};

}  // namespace chat::kafka
