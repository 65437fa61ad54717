#pragma once
// message_keys over Redis (core/message_keys.hpp, docs/events.md "Retries"): the first claim of a
// messageKey in the whole cluster wins.
//
//   chat:msgkey:{messageKey}   "id:roomId:senderId" of the first acknowledged record of the key;
//                              TTL --dedup-ttl (as the broadcast consumer's dedup keys)
//
// This node's memory answers first (a key claimed here before needs no round trip). The others
// go to one worker thread, which claims everything waiting in one script (SET NX GET per key),
// so under load a round trip serves many claims. When Redis cannot be reached a claim answers
// with the claimer's own entry (what a single node would say) and the worker does not try again
// for a second; chat_message_key_claims_total{outcome="unavailable"} counts those.
#include "core/message_keys.hpp"
#include "redis/redis_client.hpp"

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace chat::metrics {
class counter;
}

namespace chat::gateway {

struct redis_message_keys_options {
  std::chrono::seconds ttl{86400};              // --dedup-ttl
  std::size_t capacity = 16384;                 // this node's memory
  std::size_t batch = 256;                      // keys per script
  std::size_t max_waiting = 100000;             // claims queued for the worker; more answer at once (as unavailable)
  std::chrono::milliseconds retry_after{1000};  // after Redis failed, claims answer at once for this long
};

// Where the claims' outcomes are counted (may be null each): first = this record is the first of
// its key; retry = another record claimed the key before (the answer is that one's id);
// unavailable = the cluster could not be asked.
struct message_key_counters {
  metrics::counter* first = nullptr;
  metrics::counter* retry = nullptr;
  metrics::counter* unavailable = nullptr;
};

class redis_message_keys final : public chatd::message_keys {
 public:
  redis_message_keys(redis::endpoint ep, std::chrono::milliseconds redis_timeout, redis_message_keys_options options,
                     message_key_counters counters = {});
  ~redis_message_keys() override;  // answers the claims still waiting (own entries), joins the worker
  redis_message_keys(const redis_message_keys&) = delete;
  redis_message_keys& operator=(const redis_message_keys&) = delete;

  std::optional<chatd::key_entry> find(const std::string& key) const override;
  void claim(const std::string& key, chatd::key_entry mine, std::function<void(chatd::key_entry first)> done) override;

 private:
  struct claim_op {
    std::string key;
    chatd::key_entry mine;
    std::function<void(chatd::key_entry)> done;
  };

  void run();
  // Claims `ops` in Redis: each op's answer, or false (and why in `error`) when Redis cannot be
  // reached.
  bool claim_all(redis::client& redis, const std::vector<claim_op>& ops, std::vector<chatd::key_entry>& firsts,
                 std::string& error);
  void answer(claim_op& op, chatd::key_entry first, metrics::counter* counted);

  const redis::endpoint endpoint_;
  const std::chrono::milliseconds redis_timeout_;
  const redis_message_keys_options options_;
  const std::string ttl_s_;
  const message_key_counters counters_;
  chatd::recent_keys local_;

  std::mutex mutex_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::chrono::steady_clock::time_point down_until_{};  // Redis failed: answer at once until then
  std::vector<claim_op> waiting_;
  std::thread worker_;
};

}  // namespace chat::gateway
