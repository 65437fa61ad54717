#include "gateway_adapters/presence_service.hpp"

#include <chat/log/log.hpp>
#include <chat/proto/names.hpp>

#include <charconv>

namespace chat::gateway {

namespace {

using namespace std::chrono_literals;

// KEYS[1] user:presence:{id}
// ARGV 1 node, 2 count, 3 ttl seconds, 4 alive-key prefix, 5 channel, 6 ONLINE json, 7 OFFLINE json
// Returns 1 when it published ONLINE, -1 for OFFLINE, 0 otherwise.
constexpr std::string_view write_count_script = R"lua(
local key = KEYS[1]
local node = ARGV[1]
local count = tonumber(ARGV[2])
local existed = redis.call('EXISTS', key)
for _, field in ipairs(redis.call('HKEYS', key)) do
  if field ~= node and redis.call('EXISTS', ARGV[4] .. field) == 0 then
    redis.call('HDEL', key, field)
  end
end
if count > 0 then
  redis.call('HSET', key, node, count)
  redis.call('EXPIRE', key, ARGV[3])
  if existed == 0 then
    redis.call('PUBLISH', ARGV[5], ARGV[6])
    return 1
  end
  return 0
end
redis.call('HDEL', key, node)
if redis.call('HLEN', key) == 0 then
  redis.call('DEL', key)
  if existed == 1 then
    redis.call('PUBLISH', ARGV[5], ARGV[7])
    return -1
  end
end
return 0
)lua";

// KEYS user:presence:{id}...
// ARGV 1 node, 2 ttl seconds, 3 channel, then per key i: count, ONLINE json
// Re-asserts this node's counts; a key that had vanished is announced ONLINE again.
constexpr std::string_view refresh_script = R"lua(
local node = ARGV[1]
local ttl = ARGV[2]
local channel = ARGV[3]
local published = 0
for i, key in ipairs(KEYS) do
  local existed = redis.call('EXISTS', key)
  redis.call('HSET', key, node, ARGV[2 + 2 * i])
  redis.call('EXPIRE', key, ttl)
  if existed == 0 then
    redis.call('PUBLISH', channel, ARGV[3 + 2 * i])
    published = published + 1
  end
end
return published
)lua";

// KEYS[1] the typing throttle key of the user and room
// ARGV 1 interval ms, 2 channel, 3 payload
// Publishes unless some node did for this user and room within the interval.
constexpr std::string_view typing_script = R"lua(
if redis.call('SET', KEYS[1], '1', 'NX', 'PX', ARGV[1]) then
  redis.call('PUBLISH', ARGV[2], ARGV[3])
  return 1
end
return 0
)lua";

// KEYS[1] user:presence:{id}, KEYS[2] the last-seen claim of the user
// ARGV 1 claim lifetime ms
// 1 when this node claimed reporting the expired user offline: the key is still gone (nobody
// came back online meanwhile) and no node claimed it within the lifetime.
constexpr std::string_view claim_expiry_script = R"lua(
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
if redis.call('SET', KEYS[2], '1', 'NX', 'PX', ARGV[1]) then return 1 end
return 0
)lua";

std::string decimal(std::int64_t n) {
  char digits[24];
  const auto end = std::to_chars(digits, digits + sizeof digits, n).ptr;
  return std::string(digits, end);
}

bool ok(const std::optional<redis::reply>& r) { return r && r->type != redis::reply::kind::error; }

}  // namespace

presence_service::presence_service(redis::endpoint ep, std::chrono::milliseconds redis_timeout,
                                   presence_options options, const clock_source& clock)
    : endpoint_(std::move(ep)),
      redis_timeout_(redis_timeout),
      options_(std::move(options)),
      alive_key_(std::string(node_alive_key_prefix) + options_.node_id),
      clock_(clock) {}

presence_service::~presence_service() { stop(); }

void presence_service::start() {
  worker_ = std::thread([this] { run(); });
}

void presence_service::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (worker_.joinable()) worker_.join();
}

void presence_service::session_opened(std::int64_t user_id) {
  {
    std::lock_guard lock(mutex_);
    if (stopping_) return;
    ++delta_[user_id];
  }
  cv_.notify_one();
}

void presence_service::session_closed(std::int64_t user_id) {
  {
    std::lock_guard lock(mutex_);
    --delta_[user_id];  // also while stopping: the final withdrawal accounts for it
  }
  cv_.notify_one();
}

void presence_service::publish_typing(const proto::typing_event& event) {
  std::string json;
  proto::append_json(event, json);
  std::string throttle_key;
  if (!options_.typing_throttle_prefix.empty()) {
    throttle_key = options_.typing_throttle_prefix + decimal(event.user_id) + ":" + decimal(event.room_id);
  }
  {
    std::lock_guard lock(mutex_);
    if (stopping_ || publishes_.size() >= options_.max_queued_publishes) return;
    publishes_.push_back({proto::typing_channel(event.room_id), std::move(json), std::move(throttle_key)});
  }
  cv_.notify_one();
}

void presence_service::on_key_expired(std::int64_t user_id) {
  {
    std::lock_guard lock(mutex_);
    expired_.insert(user_id);
  }
  cv_.notify_one();
}

std::size_t presence_service::local_users() const {
  std::lock_guard lock(mutex_);
  return local_users_;
}

std::string presence_service::presence_json(std::int64_t user_id, proto::presence_status status) const {
  std::string json;
  proto::append_json(proto::presence_event{user_id, status, clock_.unix_ms()}, json);
  return json;
}

void presence_service::run() {
  redis::client redis(endpoint_, redis_timeout_);
  const auto ttl = decimal(options_.ttl.count());
  const std::string count_script(write_count_script);
  const std::string batch_script(refresh_script);
  const std::string throttled_publish(typing_script);
  const auto typing_ms = decimal(options_.typing_interval.count());

  const auto write = [&](std::int64_t user_id, int count) {
    const auto key = proto::presence_key(user_id);
    const auto n = decimal(count);
    const auto online = presence_json(user_id, proto::presence_status::online);
    const auto offline = presence_json(user_id, proto::presence_status::offline);
    const auto r = redis.command({"EVAL", count_script, "1", key, options_.node_id, n, ttl, node_alive_key_prefix,
                                  proto::redis_names::presence_channel, online, offline});
    if (!ok(r)) {
      log::warn("presence update failed", {{"user", user_id}, {"error", r ? r->str : redis.last_error()}});
      return false;
    }
    // -1: this write published OFFLINE, the user's last session anywhere is gone.
    if (on_offline_ && r->type == redis::reply::kind::integer && r->integer == -1)
      on_offline_(user_id, clock_.unix_ms());
    return true;
  };

  // Consecutive expiries of one user's key are at least one TTL apart (the key lives a TTL
  // after its last write), and every node sees an expiry within milliseconds: half a TTL
  // covers the nodes of one expiry and never the next one.
  const std::string expiry_script(claim_expiry_script);
  const auto claim_ms = decimal(std::max<std::int64_t>(1000, options_.ttl.count() * 500));
  const auto claim_expiry = [&](std::int64_t user_id) {
    if (!on_offline_ || options_.last_seen_claim_prefix.empty()) return;
    const auto r = redis.command({"EVAL", expiry_script, "2", proto::presence_key(user_id),
                                  options_.last_seen_claim_prefix + decimal(user_id), claim_ms});
    if (!ok(r)) {
      log::warn("last-seen claim failed", {{"user", user_id}, {"error", r ? r->str : redis.last_error()}});
      return;
    }
    if (r->type == redis::reply::kind::integer && r->integer == 1) on_offline_(user_id, clock_.unix_ms());
  };

  const auto refresh = [&] {
    if (!ok(redis.command({"SET", alive_key_, "1", "EX", ttl}))) return false;
    std::vector<std::int64_t> users;
    users.reserve(counts_.size());
    for (const auto& [user, count] : counts_) users.push_back(user);
    for (std::size_t begin = 0; begin < users.size(); begin += options_.refresh_batch) {
      const std::size_t end = std::min(users.size(), begin + options_.refresh_batch);
      std::vector<std::string> owned;
      owned.reserve((end - begin) * 3);
      for (std::size_t i = begin; i < end; ++i) owned.push_back(proto::presence_key(users[i]));
      for (std::size_t i = begin; i < end; ++i) {
        owned.push_back(decimal(counts_[users[i]]));
        owned.push_back(presence_json(users[i], proto::presence_status::online));
      }
      std::vector<std::string_view> args{"EVAL", batch_script, ""};
      const std::string nkeys = decimal(static_cast<std::int64_t>(end - begin));
      args[2] = nkeys;
      for (std::size_t i = 0; i < end - begin; ++i) args.push_back(owned[i]);
      args.push_back(options_.node_id);
      args.push_back(ttl);
      args.push_back(proto::redis_names::presence_channel);
      for (std::size_t i = end - begin; i < owned.size(); ++i) args.push_back(owned[i]);
      const auto r = redis.command(args);
      if (!ok(r)) {
        log::warn("presence refresh failed", {{"error", r ? r->str : redis.last_error()}});
        return false;
      }
    }
    return true;
  };

  auto next_refresh = steady_clock::now();  // at once: announce this node as alive
  auto retry_at = time_point::max();
  for (;;) {
    std::unordered_map<std::int64_t, int> delta;
    std::unordered_set<std::int64_t> expired;
    std::deque<publish_op> publishes;
    bool stopping = false;
    {
      std::unique_lock lock(mutex_);
      const auto wake = std::min(next_refresh, retry_at);
      cv_.wait_until(lock, wake,
                     [&] { return stopping_ || !delta_.empty() || !expired_.empty() || !publishes_.empty(); });
      delta.swap(delta_);
      expired.swap(expired_);
      publishes.swap(publishes_);
      stopping = stopping_;
    }

    for (const auto& [user, d] : delta) {
      if (d == 0) continue;
      auto& count = counts_[user];
      count = std::max(0, count + d);
      dirty_.insert(user);
      if (count == 0) counts_.erase(user);
    }
    for (const auto user : expired) {
      if (counts_.contains(user)) {
        dirty_.insert(user);
      } else {
        claim_expiry(user);
      }
    }
    {
      std::lock_guard lock(mutex_);
      local_users_ = counts_.size();
    }

    bool failed = false;
    for (auto it = dirty_.begin(); it != dirty_.end() && !failed;) {
      const auto found = counts_.find(*it);
      if (write(*it, found == counts_.end() ? 0 : found->second)) {
        it = dirty_.erase(it);
      } else {
        failed = true;
      }
    }
    for (const auto& p : publishes) {
      if (failed) break;  // Redis is down: typing notices are best effort
      const auto r =
          p.throttle_key.empty()
              ? redis.command({"PUBLISH", p.channel, p.payload})
              : redis.command({"EVAL", throttled_publish, "1", p.throttle_key, typing_ms, p.channel, p.payload});
      if (!ok(r)) failed = true;
    }
    retry_at = dirty_.empty() ? time_point::max() : steady_clock::now() + 1s;
    if (on_pass_) on_pass_();

    if (stopping) break;
    if (steady_clock::now() >= next_refresh) {
      // On failure (Redis down) try again soon: the keys may have expired meanwhile.
      next_refresh = steady_clock::now() + (refresh() ? std::chrono::milliseconds(options_.refresh) : 1000ms);
    }
  }

  // Withdraw this node: its users go OFFLINE where it was their last node.
  for (const auto& [user, count] : counts_) {
    if (!write(user, 0)) break;
  }
  counts_.clear();
  redis.command({"DEL", alive_key_});
}

}  // namespace chat::gateway
