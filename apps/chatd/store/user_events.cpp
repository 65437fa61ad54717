#include "store/user_events.hpp"

#include <chat/proto/events.hpp>
#include <chat/proto/names.hpp>
#include <chat/proto/people.hpp>

#include <algorithm>
#include <string>
#include <string_view>

namespace chat::store {

namespace {

// PUBLISH ARGV[1] to every channel in KEYS: one round trip for an invitation of many users.
constexpr std::string_view publish_each_script =
    "for _, channel in ipairs(KEYS) do redis.call('PUBLISH', channel, ARGV[1]) end return #KEYS";

}  // namespace

bool publish_user_event(redis::client& redis, const std::vector<std::int64_t>& user_ids, std::string_view json) {
  if (user_ids.empty()) return true;
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

bool publish_room_membership(redis::client& redis, const std::vector<std::int64_t>& user_ids, std::int64_t room_id,
                             bool added) {
  std::string json;
  proto::append_json(proto::room_membership_event{room_id, added}, json);
  return publish_user_event(redis, user_ids, json);
}

bool publish_membership_revoked(redis::client& redis, std::int64_t room_id, const std::vector<std::int64_t>& user_ids) {
  // A deleted room of many members: several messages, each well below what a node accepts.
  constexpr std::size_t per_message = 1000;
  static_assert(per_message <= proto::max_revoked_users);
  for (std::size_t begin = 0; begin < user_ids.size(); begin += per_message) {
    const auto end = std::min(user_ids.size(), begin + per_message);
    std::string json;
    proto::append_json(proto::membership_revoked{room_id, std::vector<std::int64_t>(
                                                              user_ids.begin() + static_cast<std::ptrdiff_t>(begin),
                                                              user_ids.begin() + static_cast<std::ptrdiff_t>(end))},
                       json);
    const auto reply = redis.command({"PUBLISH", proto::redis_names::membership_channel, json});
    if (!reply || reply->type == redis::reply::kind::error) return false;  // Redis down: no more tries
  }
  return true;
}

bool publish_friend_event(redis::client& redis, const proto::friend_event& event) {
  std::string json;
  proto::append_json(event, json);
  return publish_user_event(redis, {event.from_user_id, event.to_user_id}, json);
}

bool publish_nickname_change(redis::client& redis, std::int64_t user_id, const std::string& nickname) {
  std::string json;
  proto::append_json(proto::profile_updated_event{user_id, nickname}, json);
  const auto reply = redis.command({"PUBLISH", proto::redis_names::profile_channel, json});
  return reply && reply->type != redis::reply::kind::error;
}

}  // namespace chat::store
