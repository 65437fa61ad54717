#include "store/presence.hpp"

#include <chat/proto/names.hpp>

#include <string>
#include <string_view>

namespace chat::store {
namespace {

constexpr std::string_view exists_each_script =
    "local out = {} for i, key in ipairs(KEYS) do out[i] = redis.call('EXISTS', key) end return out";

}  // namespace

result<std::vector<std::int64_t>> online_users(redis::client& redis, const std::vector<std::int64_t>& user_ids) {
  std::vector<std::int64_t> online;
  if (user_ids.empty()) return online;
  std::vector<std::string> keys;
  keys.reserve(user_ids.size());
  for (const auto id : user_ids) keys.push_back(proto::presence_key(id));
  const std::string count = std::to_string(keys.size());
  std::vector<std::string_view> args{"EVAL", exists_each_script, count};
  args.insert(args.end(), keys.begin(), keys.end());
  const auto reply = redis.command(args);
  if (!reply) return chat::unexpected(error{errc::unavailable, {}, redis.last_error()});
  if (reply->type != redis::reply::kind::array || reply->elements.size() != user_ids.size()) {
    return chat::unexpected(error{errc::unavailable, {}, "unexpected presence reply"});
  }
  for (std::size_t i = 0; i < user_ids.size(); ++i) {
    const auto& e = reply->elements[i];
    if (e.type == redis::reply::kind::integer && e.integer != 0) online.push_back(user_ids[i]);
  }
  return online;
}

}  // namespace chat::store
