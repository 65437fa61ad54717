#pragma once
// A Lua script run with EVALSHA, loaded on first use and again after NOSCRIPT (Redis
// restarted or its script cache was flushed). One thread only, like the redis::client it
// runs on.
//
// The consumers pass many items to one call (the script loops over them) instead of
// pipelining one call per item: a script stops at its first error with everything before
// it done and nothing after it, so a failed call leaves a done prefix and a retry
// continues in order. Pipelined separate calls could not promise that (an early call
// failing with NOSCRIPT or OOM while a later one succeeds would reorder a room).
#include "redis/redis_client.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace chat::chatd::pipeline {

class redis_script {
 public:
  explicit redis_script(std::string source) : source_(std::move(source)) {}

  // EVALSHA with these keys and arguments. The reply (kind error when the script failed:
  // its effects up to the failing command remain), or nullopt when Redis cannot be
  // reached (`error` says why; the script may or may not have run).
  std::optional<redis::reply> call(redis::client& redis, const std::vector<std::string_view>& keys,
                                   const std::vector<std::string_view>& args, std::string& error);

 private:
  bool load(redis::client& redis, std::string& error);

  std::string source_;
  std::string sha_;
};

}  // namespace chat::chatd::pipeline
