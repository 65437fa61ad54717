#include "store/user_events.hpp"

#include <chat/proto/events.hpp>
#include <chat/proto/names.hpp>

#include <string>
#include <string_view>

namespace chat::store {

namespace {

// PUBLISH ARGV[1] to every channel in KEYS: one round trip for an invitation of many users.
constexpr std::string_view publish_each_script =
    "for _, channel in ipairs(KEYS) do redis.call('PUBLISH', channel, ARGV[1]) end return #KEYS";

}  // namespace

bool publish_room_membership(redis::client& redis, const std::vector<std::int64_t>& user_ids, std::int64_t room_id,
                             bool added) {
  if (user_ids.empty()) return true;
  std::string json;
  proto::append_json(proto::room_membership_event{room_id, added}, json);
  std::vector<std::string> channels;
  channels.reserve(user_ids.size());
  for (const auto user : user_ids) channels.push_back(proto::user_channel(user));
  const std::string count = std::to_string(channels.size());
  std::vector<std::string_view> args;
  args.reserve(channels.size() + 4);
  // One at a time: GCC 12 at -O2 misreads an initializer-list insert here as an overflow.
  args.emplace_back("EVAL");
  args.emplace_back(publish_each_script);
  args.emplace_back(count);
  for (const auto& c : channels) args.emplace_back(c);
  args.emplace_back(json);
  const auto reply = redis.command(args);
  return reply && reply->type != redis::reply::kind::error;
}

}  // namespace chat::store
