#include "commands/live_session.hpp"

#include "core/exit_codes.hpp"

#include <chat/client/errc.hpp>

namespace chatctl {

namespace client = chat::client;

namespace {

client::stomp_options options_with_where(context& ctx, std::string& where) {
  auto o = ctx.stomp_options();
  where = client::to_string(o.server);
  return o;
}

}  // namespace

live_session::live_session(context& ctx) : ctx_(ctx), stomp_(options_with_where(ctx, where_)) {}

void live_session::fail_closed(std::string_view doing) {
  using status = client::blocking_stomp::wait_status;
  if (stomp_.last_wait() == status::timeout && !stomp_.closed_reason()) {
    fail(exit_code::unavailable, std::string(doing) + ": no answer within " + ctx_.opts.timeout + " (" + where_ + ")");
  }
  fail_stomp(stomp_.error_frame(), stomp_.closed_reason().value_or(client::errc::connection_lost), doing, where_);
}

bool live_session::connect() {
  if (const auto ec = stomp_.connect(ctx_.deadline())) {
    if (stomp_.interrupted()) return false;
    if (ec == client::errc::timeout && !stomp_.closed_reason()) {
      fail(exit_code::unavailable, "cannot connect to " + where_ + ": no CONNECTED within " + ctx_.opts.timeout);
    }
    fail_stomp(stomp_.error_frame(), ec, "cannot connect", where_);
  }
  return true;
}

std::error_code live_session::connect_or_retry() {
  const auto ec = stomp_.connect(ctx_.deadline());
  if (!ec) return {};
  if (stomp_.interrupted()) return client::errc::aborted;
  if (ec == client::errc::timeout && !stomp_.closed_reason()) return ec;
  if (exit_code_for_stomp(stomp_.error_frame(), ec) == exit_code::unavailable) return ec;
  fail_stomp(stomp_.error_frame(), ec, "cannot connect", where_);
}

bool live_session::subscribe(std::string_view destination, std::string_view id,
                             std::span<const client::header_view> headers, chat::stomp::frame* receipt) {
  if (stomp_.subscribe(destination, id, headers, true, ctx_.deadline(), receipt)) {
    if (stomp_.interrupted()) return false;
    fail_closed("cannot subscribe to " + std::string(destination));
  }
  return true;
}

bool live_session::disconnect() {
  if (stomp_.closed_reason()) return !*stomp_.closed_reason();
  return !stomp_.disconnect(ctx_.deadline());
}

}  // namespace chatctl
