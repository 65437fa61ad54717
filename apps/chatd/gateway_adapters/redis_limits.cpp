#include "gateway_adapters/redis_limits.hpp"

#include "gateway_adapters/presence_service.hpp"
#include "metrics/metrics.hpp"

#include <chat/log/log.hpp>

#include <charconv>
#include <cstdlib>

namespace chat::gateway {

namespace {

// KEYS per user i: 2i-1 the SEND bucket hash, 2i the sessions hash
// ARGV 1 node, 2 alive-key prefix, 3 sessions TTL ms, 4 SEND rate/s, 5 SEND capacity,
//      6 disconnect rate/s, 7 disconnect capacity, 8 wake-set prefix, then per user i:
//      5+4i user id, 6+4i tokens taken from the SEND bucket, 7+4i from the disconnect
//      bucket, 8+4i this node's sessions (-1: leave the sessions hash alone)
// Returns per user: SEND level, disconnect level (as strings: Lua numbers would be
// truncated to integers), sessions on the other live nodes (-1 when not looked at).
// Levels may go down to minus one capacity: what nodes accepted together between two
// syncs beyond the budget is paid back before the user can send again.
// A node that gets its first session of a user who has sessions on other nodes adds the
// user to their wake sets: those nodes may not sync an idle user, and must now follow the
// SENDs made here.
constexpr std::string_view sync_script = R"lua(
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local node, alive, ttl = ARGV[1], ARGV[2], ARGV[3]
local rate, cap = math.max(tonumber(ARGV[4]), 1e-9), tonumber(ARGV[5])
local hrate, hcap = math.max(tonumber(ARGV[6]), 1e-9), tonumber(ARGV[7])
local wake = ARGV[8]
local out = {}
for i = 1, #KEYS / 2 do
  local bucket, sessions = KEYS[2 * i - 1], KEYS[2 * i]
  local user = ARGV[5 + 4 * i]
  local used, tried, mine = tonumber(ARGV[6 + 4 * i]), tonumber(ARGV[7 + 4 * i]), tonumber(ARGV[8 + 4 * i])
  local b = redis.call('HMGET', bucket, 's', 'h', 't')
  local s, h = cap, hcap
  if b[1] and b[2] and b[3] then
    local dt = math.max(0, now - tonumber(b[3])) / 1000
    s = math.min(cap, tonumber(b[1]) + dt * rate)
    h = math.min(hcap, tonumber(b[2]) + dt * hrate)
  end
  if used > 0 or tried > 0 then
    s = math.max(-cap, s - used)
    h = math.max(-hcap, h - tried)
    redis.call('HSET', bucket, 's', s, 'h', h, 't', now)
    local full_in = math.min(86400, math.max((cap - s) / rate, (hcap - h) / hrate))
    redis.call('PEXPIRE', bucket, math.ceil(full_in * 1000) + 1000)
  end
  local elsewhere = -1
  if mine >= 0 then
    elsewhere = 0
    local others = {}
    local before = 0
    local fields = redis.call('HGETALL', sessions)
    for j = 1, #fields, 2 do
      local field = fields[j]
      if field == node then
        before = tonumber(fields[j + 1])
      elseif redis.call('EXISTS', alive .. field) == 1 then
        elsewhere = elsewhere + tonumber(fields[j + 1])
        others[#others + 1] = field
      else
        redis.call('HDEL', sessions, field)
      end
    end
    if mine > 0 then
      redis.call('HSET', sessions, node, mine)
      redis.call('PEXPIRE', sessions, ttl)
      if before == 0 then
        for _, other in ipairs(others) do
          redis.call('SADD', wake .. other, user)
          redis.call('PEXPIRE', wake .. other, ttl)
        end
      end
    else
      redis.call('HDEL', sessions, node)
    end
  end
  out[#out + 1] = tostring(s)
  out[#out + 1] = tostring(h)
  out[#out + 1] = elsewhere
end
return out
)lua";

std::string integer_text(std::int64_t n) {
  char digits[24];
  const auto end = std::to_chars(digits, digits + sizeof digits, n).ptr;
  return std::string(digits, end);
}

std::string number_text(double v) {
  char digits[32];
  const auto end = std::to_chars(digits, digits + sizeof digits, v).ptr;
  return std::string(digits, end);
}

std::optional<double> number_from(const redis::reply& r) {
  switch (r.type) {
    case redis::reply::kind::integer: return static_cast<double>(r.integer);
    case redis::reply::kind::string: {
      char* end = nullptr;
      const double v = std::strtod(r.str.c_str(), &end);
      if (end == r.str.c_str() || *end != '\0') return std::nullopt;
      return v;
    }
    case redis::reply::kind::nil:
    case redis::reply::kind::status:
    case redis::reply::kind::error:
    case redis::reply::kind::array: return std::nullopt;
  }
  return std::nullopt;
}

}  // namespace

redis_limits::redis_limits(redis::endpoint ep, std::chrono::milliseconds redis_timeout, redis_limits_options options,
                           metrics::gauge* available)
    : endpoint_(std::move(ep)),
      redis_timeout_(redis_timeout),
      options_(std::move(options)),
      available_gauge_(available) {
  if (available_gauge_ != nullptr) available_gauge_->set(0);
}

redis_limits::~redis_limits() { detach(); }

void redis_limits::attach(limits_participant& p) {
  std::lock_guard lock(mutex_);
  if (participant_ != nullptr || stopping_) return;
  participant_ = &p;
  worker_ = std::thread([this] { run(); });
}

void redis_limits::detach() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (worker_.joinable()) worker_.join();
  std::vector<prefetch_op> waiting;
  {
    std::lock_guard lock(mutex_);
    participant_ = nullptr;
    waiting.swap(prefetches_);
  }
  for (auto& p : waiting) p.done();
}

void redis_limits::prefetch(std::int64_t user_id, std::function<void()> done) {
  {
    std::lock_guard lock(mutex_);
    if (participant_ != nullptr && !stopping_ && reachable_ && prefetches_.size() < options_.max_prefetches) {
      prefetches_.push_back({user_id, std::move(done)});
      cv_.notify_one();
      return;
    }
  }
  done();
}

void redis_limits::set_available(bool available) {
  if (available_gauge_ != nullptr) available_gauge_->set(available ? 1 : 0);
}

std::optional<std::vector<limits_state>> redis_limits::sync(redis::client& redis, const limits_batch& batch,
                                                            std::string& error) {
  const std::string script(sync_script);
  const std::string prefix = key_prefix();
  const std::string wake = prefix + ":wake:";
  const std::string ttl =
      integer_text(std::chrono::duration_cast<std::chrono::milliseconds>(options_.sessions_ttl).count());
  const std::string fixed[] = {number_text(batch.sends.rate_per_s), number_text(batch.sends.capacity),
                               number_text(batch.hard.rate_per_s), number_text(batch.hard.capacity)};
  std::vector<limits_state> states;
  states.reserve(batch.users.size());
  for (std::size_t begin = 0; begin < batch.users.size(); begin += options_.batch) {
    const std::size_t end = std::min(batch.users.size(), begin + options_.batch);
    const std::size_t n = end - begin;
    // Every string the command names, in place before any view of them is taken.
    std::vector<std::string> owned;
    owned.reserve(n * 6 + 1);
    owned.push_back(integer_text(static_cast<std::int64_t>(2 * n)));
    for (std::size_t i = begin; i < end; ++i) {
      const auto user = integer_text(batch.users[i].user_id);
      owned.push_back(prefix + ":send:" + user);
      owned.push_back(prefix + ":sessions:" + user);
    }
    for (std::size_t i = begin; i < end; ++i) {
      owned.push_back(integer_text(batch.users[i].user_id));
      owned.push_back(number_text(batch.users[i].sends));
      owned.push_back(number_text(batch.users[i].attempts));
      owned.push_back(integer_text(batch.users[i].sessions));
    }
    std::vector<std::string_view> args{"EVAL", script};
    args.reserve(owned.size() + 10);
    args.push_back(owned[0]);
    for (std::size_t k = 1; k <= 2 * n; ++k) args.push_back(owned[k]);
    args.push_back(options_.node_id);
    args.push_back(node_alive_key_prefix);
    args.push_back(ttl);
    for (const auto& f : fixed) args.push_back(f);
    args.push_back(wake);
    for (std::size_t k = 2 * n + 1; k < owned.size(); ++k) args.push_back(owned[k]);

    const auto r = redis.command(args);
    if (!r || r->type != redis::reply::kind::array || r->elements.size() != 3 * n) {
      error = !r ? redis.last_error() : r->type == redis::reply::kind::error ? r->str : "unexpected reply";
      return std::nullopt;
    }
    for (std::size_t i = 0; i < n; ++i) {
      const auto sends = number_from(r->elements[3 * i]);
      const auto hard = number_from(r->elements[3 * i + 1]);
      const auto elsewhere = number_from(r->elements[3 * i + 2]);
      if (!sends || !hard || !elsewhere) {
        error = "unexpected reply";
        return std::nullopt;
      }
      states.push_back({*sends, *hard, static_cast<int>(*elsewhere)});
    }
  }
  return states;
}

std::string redis_limits::key_prefix() const { return "chat:limit:" + options_.scope; }

bool redis_limits::pop_wake_set(redis::client& redis, std::vector<std::int64_t>& users, std::string& error) {
  const auto key = key_prefix() + ":wake:" + options_.node_id;
  const auto count = integer_text(static_cast<std::int64_t>(options_.max_woken));
  const auto r = redis.command({"SPOP", key, count});
  if (!r || r->type == redis::reply::kind::error) {
    error = r ? r->str : redis.last_error();
    return false;
  }
  for (const auto& e : r->elements) {
    std::int64_t user = 0;
    const auto [ptr, ec] = std::from_chars(e.str.data(), e.str.data() + e.str.size(), user);
    if (ec == std::errc() && ptr == e.str.data() + e.str.size()) users.push_back(user);
  }
  return true;
}

void redis_limits::run() {
  redis::client redis(endpoint_, redis_timeout_);
  auto next_everyone = steady_clock::now() + options_.sessions_refresh;
  std::optional<bool> available;  // none until the first attempt
  for (;;) {
    std::vector<prefetch_op> prefetches;
    limits_participant* participant = nullptr;
    {
      std::unique_lock lock(mutex_);
      cv_.wait_for(lock, options_.interval, [&] { return stopping_ || !prefetches_.empty(); });
      if (stopping_) break;
      prefetches.swap(prefetches_);
      participant = participant_;
    }

    const auto now = steady_clock::now();
    const bool everyone = now >= next_everyone;
    std::vector<std::int64_t> also;
    also.reserve(prefetches.size());
    for (const auto& p : prefetches) also.push_back(p.user_id);
    // Users who just connected to another node too (see sync_script); this also tells,
    // every interval, whether Redis is there.
    std::string error;
    bool reached = pop_wake_set(redis, also, error);
    const auto batch = participant->collect(now, everyone, also);
    if (!batch.users.empty()) {
      const auto states = reached ? sync(redis, batch, error) : std::nullopt;
      reached = states.has_value();
      participant->apply(batch, states, steady_clock::now());
      if (everyone && reached) next_everyone = now + options_.sessions_refresh;
    } else {
      // Nobody to sync: the registry still learns whether the cluster's view is there.
      participant->apply(batch, reached ? std::optional(std::vector<limits_state>{}) : std::nullopt,
                         steady_clock::now());
    }
    for (auto& p : prefetches) p.done();

    // Said once per change, not once per attempt.
    if (available != reached) {
      set_available(reached);
      if (!reached) {
        log::warn("shared limits unavailable: SEND rate, sessions per user and typing are limited per node",
                  {{"error", error}});
      } else if (available.has_value()) {
        log::info("shared limits available again: the per-user limits hold across nodes");
      }
      available = reached;
    }
    {
      std::lock_guard lock(mutex_);
      reachable_ = reached;
    }
  }
}

}  // namespace chat::gateway
