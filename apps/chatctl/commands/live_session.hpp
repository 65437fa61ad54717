#pragma once
// A STOMP session for one command (send, tail), run on the calling thread: connect with the
// profile's token, subscribe with receipts, and turn every failure into the right exit code.
#include "core/context.hpp"

#include <chat/client/blocking_stomp.hpp>

#include <span>
#include <string>
#include <string_view>

namespace chatctl {

class live_session {
 public:
  explicit live_session(context& ctx);

  // CONNECT until CONNECTED within --timeout; fails with 3 (token refused), 7 (unreachable), ...
  // false when stomp().interrupt() stopped the wait (e.g. Ctrl-C through a signal_set).
  bool connect();
  // CONNECT as connect(), but a server that cannot be reached (or did not answer, or is shutting
  // down) is returned as an error instead of ending the process: the caller may try again.
  // Anything else (a refused token, ...) still exits. {} on success; errc::aborted when interrupted.
  std::error_code connect_or_retry();
  // SUBSCRIBE with a receipt, awaited within --timeout; false when interrupted. `headers` are
  // added to the frame; the RECEIPT lands in *receipt when given.
  bool subscribe(std::string_view destination, std::string_view id,
                 std::span<const chat::client::header_view> headers = {}, chat::stomp::frame* receipt = nullptr);
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
