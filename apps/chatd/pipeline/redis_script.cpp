#include "pipeline/redis_script.hpp"

namespace chat::chatd::pipeline {

bool redis_script::load(redis::client& redis, std::string& error) {
  const auto r = redis.command({"SCRIPT", "LOAD", source_});
  if (!r) {
    error = redis.last_error();
    return false;
  }
  if (r->type != redis::reply::kind::string) {
    error = "SCRIPT LOAD: " + (r->str.empty() ? std::string("unexpected reply") : r->str);
    return false;
  }
  sha_ = r->str;
  return true;
}

std::optional<redis::reply> redis_script::call(redis::client& redis, const std::vector<std::string_view>& keys,
                                               const std::vector<std::string_view>& args, std::string& error) {
  if (sha_.empty() && !load(redis, error)) return std::nullopt;
  const std::string key_count = std::to_string(keys.size());
  std::vector<std::string_view> cmd;
  cmd.reserve(3 + keys.size() + args.size());
  for (int round = 0; round < 2; ++round) {
    cmd.clear();
    cmd.push_back("EVALSHA");
    cmd.push_back(sha_);
    cmd.push_back(key_count);
    cmd.insert(cmd.end(), keys.begin(), keys.end());
    cmd.insert(cmd.end(), args.begin(), args.end());
    auto r = redis.command(cmd);
    if (!r) {
      error = redis.last_error();
      return std::nullopt;
    }
    // NOSCRIPT: nothing ran; load and run once more.
    if (r->type == redis::reply::kind::error && r->str.rfind("NOSCRIPT", 0) == 0 && round == 0) {
      if (!load(redis, error)) return std::nullopt;
      continue;
    }
    return r;
  }
  return std::nullopt;  // not reached
}

}  // namespace chat::chatd::pipeline
