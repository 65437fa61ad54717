#include <chat/client/blocking_stomp.hpp>
#include <chat/client/errc.hpp>

#include <utility>

namespace chat::client {

blocking_stomp::blocking_stomp(stomp_options options) {
  stomp_handlers handlers;
  handlers.on_connected = [this](const stomp::frame&) { connected_ = true; };
  handlers.on_message = [this](stomp::frame& f) { messages_.push_back(std::move(f)); };
  handlers.on_receipt = [this](std::string_view id, const stomp::frame& f) { receipts_[std::string(id)] = f; };
  handlers.on_error = [this](const stomp::frame& f) {
    // A refusal of one frame answers that frame's receipt; the session goes on.
    if (const auto id = f.get("receipt-id");
        id && f.get("session-closes") == std::optional<std::string_view>("false")) {
      refusals_[std::string(*id)] = f;
      return;
    }
    error_frame_ = f;
  };
  handlers.on_closed = [this](std::error_code reason) {
    connected_ = false;
    closed_ = reason;
  };
  session_ = stomp_client::create(ioc_.get_executor(), std::move(options), std::move(handlers));
}

blocking_stomp::~blocking_stomp() {
  if (!closed_) {
    session_->close();
    ioc_.restart();
    ioc_.poll();
  }
}

bool blocking_stomp::connected() const noexcept { return connected_ && !closed_; }

blocking_stomp::wait_status blocking_stomp::run_until(const std::function<bool()>& pred, time_point deadline) {
  for (;;) {
    if (pred()) return last_wait_ = wait_status::done;
    if (interrupted_) return last_wait_ = wait_status::interrupted;
    if (closed_) return last_wait_ = wait_status::closed;
    if (clock_type::now() >= deadline) return last_wait_ = wait_status::timeout;
    if (ioc_.stopped()) ioc_.restart();
    if (ioc_.run_one_until(deadline) == 0 && ioc_.stopped() && !closed_ && !pred()) {
      // Out of work without the session closing cannot happen while a read is pending;
      // treat it as closed rather than spinning.
      return last_wait_ = wait_status::closed;
    }
  }
}

std::error_code blocking_stomp::status_error(wait_status s) const {
  switch (s) {
    case wait_status::done: return {};
    case wait_status::timeout: return errc::timeout;
    case wait_status::interrupted: return errc::aborted;
    case wait_status::closed:
      if (closed_ && *closed_) return *closed_;
      return errc::connection_lost;
  }
  return errc::aborted;
}

std::error_code blocking_stomp::connect(time_point deadline) {
  session_->connect();
  const auto s = run_until([this] { return connected_; }, deadline);
  if (s == wait_status::done) return {};
  return status_error(s);
}

std::string blocking_stomp::next_receipt_id() { return "r-" + std::to_string(++receipt_seq_); }

std::optional<stomp::frame> blocking_stomp::take_receipt(const std::string& id) {
  const auto it = receipts_.find(id);
  if (it == receipts_.end()) return std::nullopt;
  auto f = std::move(it->second);
  receipts_.erase(it);
  return f;
}

std::error_code blocking_stomp::wait_receipt(const std::string& id, time_point deadline, stomp::frame* receipt) {
  const auto s = run_until([this, &id] { return receipts_.contains(id) || refusals_.contains(id); }, deadline);
  if (s != wait_status::done) return status_error(s);
  if (const auto refused = refusals_.find(id); refused != refusals_.end()) {
    error_frame_ = std::move(refused->second);
    refusals_.erase(refused);
    return errc::refused;
  }
  auto f = take_receipt(id);
  if (receipt != nullptr) *receipt = std::move(*f);
  return {};
}

std::error_code blocking_stomp::subscribe(std::string_view destination, std::string_view id,
                                          std::span<const header_view> headers, bool wait_for_receipt,
                                          time_point deadline, stomp::frame* receipt_frame) {
  const std::string receipt = wait_for_receipt ? next_receipt_id() : std::string();
  if (const auto ec = session_->subscribe(destination, id, headers, receipt)) return ec;
  if (!wait_for_receipt) return {};
  return wait_receipt(receipt, deadline, receipt_frame);
}

std::error_code blocking_stomp::send(std::string_view destination, std::string_view body,
                                     std::span<const header_view> headers, bool wait_for_receipt, time_point deadline,
                                     stomp::frame* receipt) {
  const std::string id = wait_for_receipt ? next_receipt_id() : std::string();
  if (const auto ec = session_->send(destination, body, headers, id)) return ec;
  if (!wait_for_receipt) return {};
  return wait_receipt(id, deadline, receipt);
}

std::error_code blocking_stomp::disconnect(time_point deadline) {
  if (closed_) return *closed_ ? *closed_ : std::error_code{};
  interrupted_ = false;  // an interrupt usually is why we disconnect; a new one cuts it short
  if (const auto ec = session_->disconnect(next_receipt_id())) return ec;
  const auto s = run_until([] { return false; }, deadline);
  if (s == wait_status::closed) return closed_ ? *closed_ : std::error_code{};
  session_->close();
  return status_error(s);
}

std::optional<stomp::frame> blocking_stomp::next_message(time_point deadline) {
  const auto s = run_until([this] { return !messages_.empty(); }, deadline);
  if (s != wait_status::done) return std::nullopt;
  auto f = std::move(messages_.front());
  messages_.pop_front();
  return f;
}

}  // namespace chat::client
