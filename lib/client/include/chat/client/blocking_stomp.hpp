#pragma once
// A blocking face of stomp_client for command-line tools and tests: it owns an io_context and
// runs it on the calling thread until a condition holds, the session ends, or a deadline.
// One thread at a time; not for servers or load generation (use stomp_client directly).
//
//   chat::client::blocking_stomp stomp(options);
//   if (auto ec = stomp.connect(deadline)) { ... stomp.error_frame() ... }
//   stomp.subscribe("/topic/room.7", "s0", {}, true, deadline);
//   while (auto m = stomp.next_message(deadline)) print(m->body);
#include <chat/client/stomp_client.hpp>

#include <boost/asio/io_context.hpp>

#include <chrono>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <unordered_map>

namespace chat::client {

class blocking_stomp {
 public:
  using clock_type = std::chrono::steady_clock;
  using time_point = clock_type::time_point;

  enum class wait_status {
    done,         // the condition holds
    timeout,      // the deadline passed first
    closed,       // the session ended first (closed_reason(), error_frame())
    interrupted,  // interrupt() was called (e.g. from a signal_set on context())
  };

  explicit blocking_stomp(stomp_options options);
  ~blocking_stomp();
  blocking_stomp(const blocking_stomp&) = delete;
  blocking_stomp& operator=(const blocking_stomp&) = delete;

  // Until CONNECTED: {} on success; otherwise errc::timeout, the session's closing reason
  // (errc::server_error with error_frame() for a refused CONNECT), or errc::aborted when
  // interrupted.
  std::error_code connect(time_point deadline);

  // With wait_for_receipt, a receipt is requested and awaited (then the RECEIPT frame is in
  // *receipt when given); errc::refused (error_frame() says why) when the server refused
  // that one frame and kept the session.
  std::error_code subscribe(std::string_view destination, std::string_view id, std::span<const header_view> headers,
                            bool wait_for_receipt, time_point deadline, stomp::frame* receipt = nullptr);
  std::error_code send(std::string_view destination, std::string_view body, std::span<const header_view> headers,
                       bool wait_for_receipt, time_point deadline, stomp::frame* receipt = nullptr);
  // DISCONNECT with a receipt, then wait for the session to close. {} when it closed cleanly.
  // Clears an earlier interrupt(); a new one during the wait closes at once.
  std::error_code disconnect(time_point deadline);

  // The next MESSAGE (in arrival order), waiting for one until the deadline. nullopt when
  // none came: see last_wait() for why.
  std::optional<stomp::frame> next_message(time_point deadline);

  // Runs the io_context until pred() is true (checked before every handler), the session
  // closes, interrupt() is called, or the deadline passes.
  wait_status run_until(const std::function<bool()>& pred, time_point deadline);
  wait_status last_wait() const noexcept { return last_wait_; }

  // A fresh receipt id ("r-1", "r-2", ...).
  std::string next_receipt_id();
  // The RECEIPT with that id, once it arrived (removed from the store).
  std::optional<stomp::frame> take_receipt(const std::string& id);

  std::deque<stomp::frame>& messages() noexcept { return messages_; }
  const std::optional<stomp::frame>& error_frame() const noexcept { return error_frame_; }
  // Set once the session ended; the error is empty after a clean DISCONNECT.
  const std::optional<std::error_code>& closed_reason() const noexcept { return closed_; }
  bool connected() const noexcept;

  void interrupt() noexcept { interrupted_ = true; }
  bool interrupted() const noexcept { return interrupted_; }

  stomp_client& session() noexcept { return *session_; }
  boost::asio::io_context& context() noexcept { return ioc_; }

 private:
  std::error_code wait_receipt(const std::string& id, time_point deadline, stomp::frame* receipt);
  std::error_code status_error(wait_status s) const;

  boost::asio::io_context ioc_{1};
  std::shared_ptr<stomp_client> session_;
  bool connected_ = false;
  bool interrupted_ = false;
  wait_status last_wait_ = wait_status::done;
  std::uint64_t receipt_seq_ = 0;
  std::deque<stomp::frame> messages_;
  std::unordered_map<std::string, stomp::frame> receipts_;
  std::unordered_map<std::string, stomp::frame> refusals_;  // ERRORs with session-closes:false, by receipt id
  std::optional<stomp::frame> error_frame_;
  std::optional<std::error_code> closed_;
};

}  // namespace chat::client
