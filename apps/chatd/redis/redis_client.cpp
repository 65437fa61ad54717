#include "redis/redis_client.hpp"

#include <hiredis/hiredis.h>

#include <charconv>

namespace chat::redis {

std::optional<endpoint> parse_url(std::string_view url) {
  constexpr std::string_view scheme = "redis://";
  if (url.substr(0, scheme.size()) != scheme) return std::nullopt;
  url.remove_prefix(scheme.size());
  endpoint ep;
  if (const auto at = url.rfind('@'); at != std::string_view::npos) {
    std::string_view auth = url.substr(0, at);
    if (const auto colon = auth.find(':'); colon != std::string_view::npos) auth.remove_prefix(colon + 1);
    ep.password = std::string(auth);
    url.remove_prefix(at + 1);
  }
  if (const auto slash = url.find('/'); slash != std::string_view::npos) {
    const std::string_view db = url.substr(slash + 1);
    if (!db.empty()) {
      auto [p, ec] = std::from_chars(db.data(), db.data() + db.size(), ep.db);
      if (ec != std::errc{} || p != db.data() + db.size() || ep.db < 0) return std::nullopt;
    }
    url = url.substr(0, slash);
  }
  if (const auto colon = url.rfind(':'); colon != std::string_view::npos) {
    const std::string_view port = url.substr(colon + 1);
    unsigned value = 0;
    auto [p, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (ec != std::errc{} || p != port.data() + port.size() || value == 0 || value > 65535) return std::nullopt;
    ep.port = static_cast<std::uint16_t>(value);
    url = url.substr(0, colon);
  }
  if (url.empty()) return std::nullopt;
  ep.host = std::string(url);
  return ep;
}

struct client::impl {
  redisContext* ctx = nullptr;
  ~impl() { reset(); }
  void reset() {
    if (ctx != nullptr) redisFree(ctx);
    ctx = nullptr;
  }
};

namespace {

timeval to_timeval(std::chrono::milliseconds t) {
  return timeval{static_cast<time_t>(t.count() / 1000), static_cast<suseconds_t>((t.count() % 1000) * 1000)};
}

reply convert(const redisReply* r) {
  reply out;
  switch (r->type) {
    case REDIS_REPLY_STATUS:
      out.type = reply::kind::status;
      out.str.assign(r->str, r->len);
      break;
    case REDIS_REPLY_ERROR:
      out.type = reply::kind::error;
      out.str.assign(r->str, r->len);
      break;
    case REDIS_REPLY_INTEGER:
      out.type = reply::kind::integer;
      out.integer = r->integer;
      break;
    case REDIS_REPLY_STRING:
      out.type = reply::kind::string;
      out.str.assign(r->str, r->len);
      break;
    case REDIS_REPLY_ARRAY:
      out.type = reply::kind::array;
      out.elements.reserve(r->elements);
      for (std::size_t i = 0; i < r->elements; ++i) out.elements.push_back(convert(r->element[i]));
      break;
    default: out.type = reply::kind::nil;
  }
  return out;
}

}  // namespace

client::client(endpoint ep, std::chrono::milliseconds timeout)
    : impl_(std::make_unique<impl>()), ep_(std::move(ep)), timeout_(timeout) {}

client::~client() = default;

bool client::connected() const noexcept { return impl_->ctx != nullptr; }

bool client::ensure_connected() {
  if (impl_->ctx != nullptr) return true;
  const timeval tv = to_timeval(timeout_);
  redisContext* ctx = redisConnectWithTimeout(ep_.host.c_str(), ep_.port, tv);
  if (ctx == nullptr) {
    last_error_ = "cannot allocate redis context";
    return false;
  }
  if (ctx->err != 0) {
    last_error_ = ctx->errstr;
    redisFree(ctx);
    return false;
  }
  redisSetTimeout(ctx, tv);
  impl_->ctx = ctx;
  auto run_setup = [&](std::vector<std::string_view> args) {
    std::vector<const char*> argv;
    std::vector<std::size_t> lens;
    for (auto a : args) {
      argv.push_back(a.data());
      lens.push_back(a.size());
    }
    auto* r = static_cast<redisReply*>(redisCommandArgv(ctx, static_cast<int>(argv.size()), argv.data(), lens.data()));
    const bool ok = r != nullptr && r->type != REDIS_REPLY_ERROR;
    if (r != nullptr && !ok) last_error_.assign(r->str, r->len);
    if (r == nullptr) last_error_ = ctx->errstr;
    if (r != nullptr) freeReplyObject(r);
    return ok;
  };
  if (!ep_.password.empty() && !run_setup({"AUTH", ep_.password})) {
    impl_->reset();
    return false;
  }
  if (ep_.db != 0) {
    const std::string db = std::to_string(ep_.db);
    if (!run_setup({"SELECT", db})) {
      impl_->reset();
      return false;
    }
  }
  return true;
}

std::optional<reply> client::command(const std::vector<std::string_view>& args) {
  std::vector<const char*> argv;
  std::vector<std::size_t> lens;
  argv.reserve(args.size());
  lens.reserve(args.size());
  for (auto a : args) {
    argv.push_back(a.data());
    lens.push_back(a.size());
  }
  for (int attempt = 0; attempt < 2; ++attempt) {
    if (!ensure_connected()) return std::nullopt;
    auto* r =
        static_cast<redisReply*>(redisCommandArgv(impl_->ctx, static_cast<int>(argv.size()), argv.data(), lens.data()));
    if (r != nullptr) {
      reply out = convert(r);
      freeReplyObject(r);
      return out;
    }
    last_error_ = impl_->ctx->errstr;
    impl_->reset();  // broken connection: reconnect once
  }
  return std::nullopt;
}

}  // namespace chat::redis
