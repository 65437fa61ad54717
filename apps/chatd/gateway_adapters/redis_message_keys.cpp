#include "gateway_adapters/redis_message_keys.hpp"

#include "metrics/metrics.hpp"

#include <chat/log/log.hpp>

#include <charconv>

namespace chat::gateway {

namespace {

constexpr std::string_view key_prefix = "chat:msgkey:";

// KEYS[i] = chat:msgkey:{key i}; ARGV[1] = TTL in seconds; ARGV[i + 1] = "id:room:sender" of
// claim i. Returns per claim what the key named before ('' when this claim is the first).
constexpr std::string_view claim_script = R"lua(
local out = {}
for i = 1, #KEYS do
  local before = redis.call('SET', KEYS[i], ARGV[i + 1], 'NX', 'GET', 'EX', ARGV[1])
  if before then out[i] = before else out[i] = '' end
end
return out
)lua";

std::string encode(const chatd::key_entry& e) {
  return std::to_string(e.id) + ':' + std::to_string(e.room_id) + ':' + std::to_string(e.sender_id);
}

std::optional<chatd::key_entry> decode(std::string_view s) {
  chatd::key_entry e;
  std::int64_t* fields[] = {&e.id, &e.room_id, &e.sender_id};
  const char* p = s.data();
  const char* end = s.data() + s.size();
  for (std::size_t i = 0; i < 3; ++i) {
    const auto [next, ec] = std::from_chars(p, end, *fields[i]);
    if (ec != std::errc{} || next == p) return std::nullopt;
    p = next;
    if (i < 2) {
      if (p == end || *p != ':') return std::nullopt;
      ++p;
    }
  }
  if (p != end) return std::nullopt;
  return e;
}

void count(metrics::counter* c) {
  if (c != nullptr) c->inc();
}

}  // namespace

redis_message_keys::redis_message_keys(redis::endpoint ep, std::chrono::milliseconds redis_timeout,
                                       redis_message_keys_options options, message_key_counters counters)
    : endpoint_(std::move(ep)),
      redis_timeout_(redis_timeout),
      options_(options),
      ttl_s_(std::to_string(std::max<std::int64_t>(1, options.ttl.count()))),
      counters_(counters),
      local_(options.capacity),
      worker_([this] { run(); }) {}

redis_message_keys::~redis_message_keys() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  cv_.notify_all();
  worker_.join();
  for (auto& op : waiting_) answer(op, op.mine, counters_.unavailable);
}

std::optional<chatd::key_entry> redis_message_keys::find(const std::string& key) const { return local_.find(key); }

void redis_message_keys::claim(const std::string& key, chatd::key_entry mine,
                               std::function<void(chatd::key_entry)> done) {
  if (const auto known = local_.find(key)) {
    count(*known == mine ? counters_.first : counters_.retry);
    return done(*known);
  }
  {
    std::lock_guard lock(mutex_);
    if (!stopping_ && waiting_.size() < options_.max_waiting && std::chrono::steady_clock::now() >= down_until_) {
      waiting_.push_back({key, mine, std::move(done)});
      if (waiting_.size() == 1) cv_.notify_one();
      return;
    }
  }
  // Nobody to ask now: this node's memory decides.
  count(counters_.unavailable);
  done(local_.remember(key, mine));
}

void redis_message_keys::answer(claim_op& op, chatd::key_entry first, metrics::counter* counted) {
  count(counted);
  op.done(first);
}

bool redis_message_keys::claim_all(redis::client& redis, const std::vector<claim_op>& ops,
                                   std::vector<chatd::key_entry>& firsts, std::string& error) {
  firsts.clear();
  std::vector<std::string> keys;
  std::vector<std::string> values;
  for (std::size_t first = 0; first < ops.size(); first += options_.batch) {
    const std::size_t last = std::min(ops.size(), first + options_.batch);
    keys.clear();
    values.clear();
    for (std::size_t i = first; i < last; ++i) {
      keys.push_back(std::string(key_prefix) + ops[i].key);
      values.push_back(encode(ops[i].mine));
    }
    const std::string numkeys = std::to_string(keys.size());
    std::vector<std::string_view> args{"EVAL", claim_script, numkeys};
    args.insert(args.end(), keys.begin(), keys.end());
    args.push_back(ttl_s_);
    args.insert(args.end(), values.begin(), values.end());
    const auto reply = redis.command(args);
    if (!reply) {
      error = redis.last_error();
      return false;
    }
    if (reply->type != redis::reply::kind::array || reply->elements.size() != last - first) {
      error = reply->type == redis::reply::kind::error ? reply->str : "unexpected reply to the claim script";
      return false;
    }
    for (std::size_t i = first; i < last; ++i) {
      const auto& before = reply->elements[i - first].str;
      // A value this version cannot read (another format) does not block the sender: its own.
      const auto known = before.empty() ? std::nullopt : decode(before);
      firsts.push_back(known.value_or(ops[i].mine));
    }
  }
  return true;
}

void redis_message_keys::run() {
  redis::client redis(endpoint_, redis_timeout_);
  bool reachable = true;
  std::vector<claim_op> ops;
  std::vector<chatd::key_entry> firsts;
  for (;;) {
    ops.clear();
    {
      std::unique_lock lock(mutex_);
      cv_.wait(lock, [&] { return stopping_ || !waiting_.empty(); });
      if (stopping_) return;
      ops.swap(waiting_);
    }
    std::string error;
    const bool reached = claim_all(redis, ops, firsts, error);
    if (reached != reachable) {
      if (!reached) {
        log::warn("message keys unavailable: a retried messageKey is answered with this node's memory only",
                  {{"error", error}});
      } else {
        log::info("message keys available again");
      }
      reachable = reached;
    }
    if (!reached) {
      std::lock_guard lock(mutex_);
      down_until_ = std::chrono::steady_clock::now() + options_.retry_after;
    }
    for (std::size_t i = 0; i < ops.size(); ++i) {
      auto& op = ops[i];
      if (!reached) {
        answer(op, local_.remember(op.key, op.mine), counters_.unavailable);
        continue;
      }
      const auto first = firsts[i];
      local_.assign(op.key, first);
      answer(op, first, first == op.mine ? counters_.first : counters_.retry);
    }
  }
}

}  // namespace chat::gateway
