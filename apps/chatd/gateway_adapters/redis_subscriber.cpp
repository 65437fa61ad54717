#include "gateway_adapters/redis_subscriber.hpp"

#include <chat/log/log.hpp>
#include <chat/proto/ids.hpp>
#include <chat/proto/names.hpp>

#include <hiredis/hiredis.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <system_error>
#include <unordered_map>

namespace chat::gateway {

using namespace std::chrono_literals;

namespace {

constexpr auto ping_every = 5s;
constexpr auto silence_limit = 15s;  // no byte from Redis for this long: reconnect
constexpr std::size_t channels_per_command = 256;

struct reply_deleter {
  void operator()(redisReply* r) const noexcept { freeReplyObject(r); }
};
using reply_ptr = std::unique_ptr<redisReply, reply_deleter>;

reply_ptr run_command(redisContext* c, const std::vector<std::string_view>& args) {
  std::vector<const char*> argv;
  std::vector<std::size_t> lens;
  for (const auto a : args) {
    argv.push_back(a.data());
    lens.push_back(a.size());
  }
  return reply_ptr(
      static_cast<redisReply*>(redisCommandArgv(c, static_cast<int>(argv.size()), argv.data(), lens.data())));
}

bool append_command(redisContext* c, std::string_view verb, const std::vector<std::string>& args) {
  std::vector<const char*> argv{verb.data()};
  std::vector<std::size_t> lens{verb.size()};
  for (const auto& a : args) {
    argv.push_back(a.data());
    lens.push_back(a.size());
  }
  return redisAppendCommandArgv(c, static_cast<int>(argv.size()), argv.data(), lens.data()) == REDIS_OK;
}

bool flush(redisContext* c) {
  int done = 0;
  while (done == 0) {
    if (redisBufferWrite(c, &done) != REDIS_OK) return false;
  }
  return true;
}

std::string_view str(const redisReply* r) {
  if (r == nullptr || (r->type != REDIS_REPLY_STRING && r->type != REDIS_REPLY_STATUS)) return {};
  return {r->str, r->len};
}

}  // namespace

struct redis_subscriber::context {
  redisContext* c = nullptr;
  ~context() {
    if (c != nullptr) redisFree(c);
  }
};

redis_subscriber::redis_subscriber(redis::endpoint ep, std::chrono::milliseconds timeout, fanout_hub& hub,
                                   const clock_source& clock, std::function<void(std::int64_t)> on_presence_expired)
    : endpoint_(std::move(ep)),
      timeout_(timeout),
      keyevent_channel_("__keyevent@" + std::to_string(endpoint_.db) + "__:expired"),
      hub_(hub),
      clock_(clock),
      on_presence_expired_(std::move(on_presence_expired)) {
  wake_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (wake_fd_ < 0) throw std::system_error(errno, std::generic_category(), "eventfd");
}

redis_subscriber::~redis_subscriber() {
  stop();
  if (wake_fd_ >= 0) ::close(wake_fd_);
}

void redis_subscriber::start() {
  thread_ = std::thread([this] { run(); });
}

void redis_subscriber::stop() {
  stopping_ = true;
  wake();
  if (thread_.joinable()) thread_.join();
}

void redis_subscriber::wake() {
  const std::uint64_t one = 1;
  [[maybe_unused]] const auto n = ::write(wake_fd_, &one, sizeof one);
}

void redis_subscriber::wait_wake(std::chrono::milliseconds timeout) {
  pollfd p{wake_fd_, POLLIN, 0};
  ::poll(&p, 1, static_cast<int>(timeout.count()));
  std::uint64_t value = 0;
  [[maybe_unused]] const auto n = ::read(wake_fd_, &value, sizeof value);
}

void redis_subscriber::subscribe(const std::string& channel) {
  {
    std::lock_guard lock(mutex_);
    ops_.push_back({true, channel});
  }
  wake();
}

void redis_subscriber::unsubscribe(const std::string& channel) {
  {
    std::lock_guard lock(mutex_);
    ops_.push_back({false, channel});
  }
  wake();
}

void redis_subscriber::run() {
  auto backoff = 100ms;
  while (!stopping_) {
    context ctx;
    const auto tv = timeval{static_cast<time_t>(timeout_.count() / 1000),
                            static_cast<suseconds_t>((timeout_.count() % 1000) * 1000)};
    ctx.c = redisConnectWithTimeout(endpoint_.host.c_str(), endpoint_.port, tv);
    std::string error;
    if (ctx.c == nullptr) {
      error = "cannot allocate a redis context";
    } else if (ctx.c->err != 0) {
      error = ctx.c->errstr;
    } else {
      redisSetTimeout(ctx.c, tv);
      if (!endpoint_.password.empty()) {
        const auto r = run_command(ctx.c, {"AUTH", endpoint_.password});
        if (!r || r->type == REDIS_REPLY_ERROR) error = r ? std::string(r->str, r->len) : ctx.c->errstr;
      }
    }
    if (!error.empty()) {
      log::warn("redis subscriber cannot connect", {{"error", error}, {"retry_ms", backoff.count()}});
      wait_wake(backoff);
      backoff = std::min<std::chrono::milliseconds>(backoff * 2, 2s);
      continue;
    }
    backoff = 100ms;
    serve(ctx);
    connected_ = false;
    hub_.on_disconnected();
  }
}

void redis_subscriber::serve(context& ctx) {
  redisContext* c = ctx.c;

  // Expired-key events make a crashed node's users go OFFLINE. Add "Ex" to what is set.
  if (const auto get = run_command(c, {"CONFIG", "GET", "notify-keyspace-events"});
      get && get->type == REDIS_REPLY_ARRAY && get->elements == 2) {
    std::string flags(str(get->element[1]));
    const bool has_class = flags.find('E') != std::string::npos;
    const bool has_expired = flags.find('x') != std::string::npos || flags.find('A') != std::string::npos;
    if (!has_class || !has_expired) {
      if (!has_class) flags.push_back('E');
      if (!has_expired) flags.push_back('x');
      const auto set = run_command(c, {"CONFIG", "SET", "notify-keyspace-events", flags});
      if ((!set || set->type == REDIS_REPLY_ERROR) && !keyspace_warned_) {
        keyspace_warned_ = true;
        log::warn(
            "cannot enable Redis keyspace notifications; a crashed node's users stay ONLINE in "
            "/topic/presence until they reconnect elsewhere",
            {{"error", set ? std::string(set->str, set->len) : std::string(c->errstr)}});
      }
    }
  } else if (!keyspace_warned_) {
    keyspace_warned_ = true;
    log::warn("cannot read Redis notify-keyspace-events (CONFIG GET refused)");
  }
  if (c->err != 0) return;

  // Everything the hub needs now; requests queued before this point are covered by it.
  {
    std::lock_guard lock(mutex_);
    ops_.clear();
  }
  std::unordered_map<std::string, int> in_flight;  // channel -> (un)subscribe replies pending
  std::vector<std::string> channels = hub_.channels();
  channels.push_back(std::string(proto::redis_names::presence_channel));
  channels.push_back(std::string(proto::redis_names::profile_channel));
  channels.push_back(std::string(proto::redis_names::blocks_channel));
  channels.push_back(std::string(proto::redis_names::membership_channel));
  channels.push_back(keyevent_channel_);
  for (std::size_t begin = 0; begin < channels.size(); begin += channels_per_command) {
    const std::vector<std::string> chunk(
        channels.begin() + static_cast<std::ptrdiff_t>(begin),
        channels.begin() + static_cast<std::ptrdiff_t>(std::min(channels.size(), begin + channels_per_command)));
    if (!append_command(c, "SUBSCRIBE", chunk)) return;
    for (const auto& ch : chunk) ++in_flight[ch];
  }
  if (!flush(c)) return;
  connected_ = true;
  connections_.fetch_add(1, std::memory_order_relaxed);
  log::info("redis subscriber connected", {{"channels", static_cast<std::int64_t>(channels.size())}});

  auto last_data = steady_clock::now();
  auto last_ping = last_data;
  while (!stopping_) {
    pollfd fds[2] = {{c->fd, POLLIN, 0}, {wake_fd_, POLLIN, 0}};
    const int n = ::poll(fds, 2, 1000);
    if (n < 0 && errno != EINTR) {
      log::warn("redis subscriber poll failed", {{"error", std::strerror(errno)}});
      return;
    }
    if (stopping_) return;
    if ((fds[1].revents & POLLIN) != 0) {
      std::uint64_t value = 0;
      [[maybe_unused]] const auto r = ::read(wake_fd_, &value, sizeof value);
      std::vector<op> ops;
      {
        std::lock_guard lock(mutex_);
        ops.swap(ops_);
      }
      for (auto& o : ops) {
        if (!append_command(c, o.subscribe ? "SUBSCRIBE" : "UNSUBSCRIBE", {o.channel})) return;
        ++in_flight[o.channel];
      }
      if (!ops.empty() && !flush(c)) return;
    }
    if ((fds[0].revents & (POLLIN | POLLERR | POLLHUP)) != 0) {
      if (redisBufferRead(c) != REDIS_OK) {
        log::warn("redis subscriber connection lost", {{"error", c->errstr}});
        return;
      }
      last_data = steady_clock::now();
      for (;;) {
        void* raw = nullptr;
        if (redisGetReplyFromReader(c, &raw) != REDIS_OK) {
          log::warn("redis subscriber protocol error", {{"error", c->errstr}});
          return;
        }
        if (raw == nullptr) break;
        const reply_ptr r(static_cast<redisReply*>(raw));
        if (r->type != REDIS_REPLY_ARRAY || r->elements < 2) continue;
        const auto kind = str(r->element[0]);
        const auto channel = str(r->element[1]);
        if (kind == "message" && r->elements >= 3) {
          dispatch(channel, str(r->element[2]));
        } else if (kind == "subscribe" || kind == "unsubscribe") {
          const auto it = in_flight.find(std::string(channel));
          if (it != in_flight.end() && --it->second <= 0) {
            in_flight.erase(it);
            // Armed only when the last request for the channel was a SUBSCRIBE.
            if (kind == "subscribe") hub_.on_armed(channel);
          }
        }
      }
    }
    const auto now = steady_clock::now();
    if (now - last_data > silence_limit) {
      log::warn("redis subscriber: no answer to PING, reconnecting");
      return;
    }
    if (now - last_ping >= ping_every) {
      last_ping = now;
      if (!append_command(c, "PING", {}) || !flush(c)) return;
    }
  }
}

void redis_subscriber::dispatch(std::string_view channel, std::string_view payload) {
  if (channel == proto::redis_names::presence_channel) return hub_.on_presence(payload);
  if (channel == proto::redis_names::profile_channel) return hub_.on_profile(payload);
  if (channel == proto::redis_names::blocks_channel) return hub_.on_block_change(payload);
  if (channel == proto::redis_names::membership_channel) return hub_.on_membership_revoked(payload);
  if (channel == keyevent_channel_) {
    if (!payload.starts_with(proto::redis_names::presence_key_prefix)) return;
    const auto user = proto::parse_positive_id(payload.substr(proto::redis_names::presence_key_prefix.size()));
    if (!user) return;
    hub_.on_presence_expired(*user, clock_.unix_ms());
    if (on_presence_expired_) on_presence_expired_(*user);
    return;
  }
  const auto key = parse_channel_name(channel);
  if (!key) return;
  switch (key->kind) {
    case channel_kind::room: return hub_.on_room_message(key->room_id, payload);
    case channel_kind::typing: return hub_.on_typing(key->room_id, payload);
    case channel_kind::user: return hub_.on_user_event(key->room_id, payload);
    case channel_kind::room_list: return;  // not a bus channel
  }
}

}  // namespace chat::gateway
