#include "pipeline/unread_cache.hpp"

#include "store/read_state.hpp"

#include <chat/log/log.hpp>
#include <chat/proto/names.hpp>

namespace chat::chatd::pipeline {

namespace {

// KEYS: value key 1, version key 1, value key 2, version key 2, ...
// ARGV: ttl, value 1, version 1, value 2, version 2, ...
// Returns how many entries were written (the others were older than the cache).
constexpr const char* cas_source = R"lua(
local written = 0
for i = 1, #KEYS / 2 do
  local current = redis.call('GET', KEYS[2 * i])
  if not current or tonumber(current) < tonumber(ARGV[2 * i + 1]) then
    redis.call('SET', KEYS[2 * i - 1], ARGV[2 * i], 'EX', ARGV[1])
    redis.call('SET', KEYS[2 * i], ARGV[2 * i + 1], 'EX', ARGV[1])
    written = written + 1
  end
end
return written
)lua";

// Entries per script call: bounds how long one call keeps Redis busy.
constexpr std::size_t entries_per_call = 500;
// flush_pending() tries at most this often.
constexpr auto idle_retry_interval = std::chrono::seconds(1);

}  // namespace

std::string unread_version_key(std::int64_t room_id, std::int64_t user_id) {
  return "unread-version:" + std::to_string(room_id) + ":" + std::to_string(user_id);
}

unread_cache::unread_cache(std::chrono::seconds ttl, std::size_t max_pending)
    : ttl_(ttl), max_pending_(max_pending), cas_(cas_source) {}

void unread_cache::remember(const std::vector<unread_entry>& entries) {
  std::size_t dropped = 0;
  for (const auto& e : entries) {
    if (pending_.size() >= max_pending_ && !pending_.contains({e.room_id, e.user_id})) {
      ++dropped;
      continue;
    }
    pending_.insert({e.room_id, e.user_id});
  }
  if (dropped != 0) {
    log::warn("unread cache: too many keys to invalidate; they expire by TTL",
              {{"dropped", static_cast<std::int64_t>(dropped)}, {"ttl_s", static_cast<std::int64_t>(ttl_.count())}});
  }
}

bool unread_cache::delete_pending(redis::client& redis) {
  if (pending_.empty()) return true;
  while (!pending_.empty()) {
    std::vector<std::string> keys;
    for (auto it = pending_.begin(); it != pending_.end() && keys.size() < entries_per_call; ++it) {
      keys.push_back(proto::unread_key(it->first, it->second));
    }
    std::vector<std::string_view> cmd{"DEL"};
    for (const auto& k : keys) cmd.push_back(k);
    if (!redis.command(cmd)) return false;
    for (std::size_t i = 0; i < keys.size(); ++i) pending_.erase(pending_.begin());
  }
  log::info("unread cache: stale keys deleted after Redis came back");
  return true;
}

bool unread_cache::write(redis::client& redis, const std::vector<unread_entry>& entries) {
  const auto now = std::chrono::steady_clock::now();
  // Right after a failure, do not wait for Redis again on every batch (a connect timeout
  // each time would slow the consumer down): remember, and let flush_pending() probe.
  if (failed_recently_ && now - last_attempt_ < idle_retry_interval) {
    remember(entries);
    return false;
  }
  last_attempt_ = now;
  failed_recently_ = true;
  if (!delete_pending(redis)) {
    remember(entries);
    return false;
  }
  const std::string ttl = std::to_string(ttl_.count());
  for (std::size_t first = 0; first < entries.size(); first += entries_per_call) {
    const std::size_t last = std::min(entries.size(), first + entries_per_call);
    std::vector<std::string> strings;  // keys and values, referenced by the views below
    strings.reserve((last - first) * 4);
    for (std::size_t i = first; i < last; ++i) {
      const auto& e = entries[i];
      strings.push_back(proto::unread_key(e.room_id, e.user_id));
      strings.push_back(unread_version_key(e.room_id, e.user_id));
      strings.push_back(store::encode_unread({e.unread_count, e.last_read_message_id}));
      strings.push_back(std::to_string(e.version));
    }
    std::vector<std::string_view> keys;
    std::vector<std::string_view> args{ttl};
    for (std::size_t j = 0; j < strings.size(); j += 4) {
      keys.push_back(strings[j]);
      keys.push_back(strings[j + 1]);
      args.push_back(strings[j + 2]);
      args.push_back(strings[j + 3]);
    }
    std::string error;
    const auto reply = cas_.call(redis, keys, args, error);
    if (!reply || reply->type == redis::reply::kind::error) {
      // Remember everything from this call on: a failed script may have written a prefix,
      // which the deletion then removes again (a miss is always safe).
      remember(std::vector<unread_entry>(entries.begin() + static_cast<std::ptrdiff_t>(first), entries.end()));
      log::warn("unread cache write failed; keys will be deleted when Redis answers",
                {{"error", reply ? reply->str : error}, {"keys", static_cast<std::int64_t>(entries.size() - first)}});
      return false;
    }
  }
  failed_recently_ = false;
  return true;
}

void unread_cache::flush_pending(redis::client& redis) {
  if (pending_.empty()) return;
  const auto now = std::chrono::steady_clock::now();
  if (now - last_attempt_ < idle_retry_interval) return;
  last_attempt_ = now;
  failed_recently_ = !delete_pending(redis);
}

}  // namespace chat::chatd::pipeline
