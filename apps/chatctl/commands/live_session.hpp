#pragma once
// A STOMP session for one command (send, tail), run on the calling thread: connect with the
// profile's token, subscribe with receipts, and turn every failure into the right exit code.
#include "core/context.hpp"

#include <chat/client/blocking_stomp.hpp>

#include <string>
#include <string_view>

namespace chatctl {

class live_session {
 public:
  explicit live_session(context& ctx);

  // CONNECT until CONNECTED within --timeout; fails with 3 (token refused), 7 (unreachable), ...
  // false when stomp().interrupt() stopped the wait (e.g. Ctrl-C through a signal_set).
  bool connect();
  // SUBSCRIBE with a receipt, awaited within --timeout; false when interrupted.
  bool subscribe(std::string_view destination, std::string_view id);
  // DISCONNECT and wait (within --timeout) for the server to confirm everything before it.
  // Returns false when it did not confirm (the caller decides whether that matters).
  bool disconnect();

  // The session ended or a wait failed: exits with the matching code.
  [[noreturn]] void fail_closed(std::string_view doing);

  chat::client::blocking_stomp& stomp() noexcept { return stomp_; }
  const std::string& where() const noexcept { return where_; }

 private:
  context& ctx_;
  std::string where_;
  chat::client::blocking_stomp stomp_;
};

}  // namespace chatctl
