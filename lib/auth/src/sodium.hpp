#pragma once
// libsodium initialised once for the process (internal to chat_auth).
#include <sodium.h>

namespace chat::auth::detail {

inline bool sodium_ready() noexcept {
  static const bool ready = sodium_init() >= 0;
  return ready;
}

}  // namespace chat::auth::detail
