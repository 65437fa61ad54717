#include "store/revocation_bus.hpp"

#include <chat/proto/names.hpp>

#include <string>

namespace chat::store {
namespace {

constexpr std::string_view publish_script =
    "redis.call('ZADD', KEYS[1], ARGV[1], ARGV[2]) "
    "return redis.call('PUBLISH', ARGV[3], ARGV[2])";

}  // namespace

bool publish_revocation(redis::client& redis, const tokens::revocation& r) {
  const std::string member = tokens::encode(r);
  const std::string score = std::to_string(r.until);
  const auto reply = redis.command({"EVAL", publish_script, "1", proto::redis_names::revoked_tokens_key, score, member,
                                    proto::redis_names::token_revocations_channel});
  return reply && reply->type == redis::reply::kind::integer;
}

std::optional<std::vector<tokens::revocation>> load_revocations(redis::client& redis, std::int64_t now_s) {
  const std::string now = std::to_string(now_s);
  const auto pruned = redis.command({"ZREMRANGEBYSCORE", proto::redis_names::revoked_tokens_key, "-inf", now});
  if (!pruned || pruned->type == redis::reply::kind::error) return std::nullopt;
  const std::string after = "(" + now;
  const auto reply = redis.command({"ZRANGEBYSCORE", proto::redis_names::revoked_tokens_key, after, "+inf"});
  if (!reply || reply->type != redis::reply::kind::array) return std::nullopt;
  std::vector<tokens::revocation> out;
  out.reserve(reply->elements.size());
  for (const auto& e : reply->elements) {
    if (auto r = tokens::decode(e.str)) out.push_back(std::move(*r));
  }
  return out;
}

}  // namespace chat::store
