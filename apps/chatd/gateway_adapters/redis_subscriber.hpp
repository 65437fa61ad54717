#pragma once
// The node's one Redis subscriber connection (docs/topics.md): its own thread, a hiredis context in
// subscribe mode, woken by poll() on the socket and on an eventfd for (un)subscribe requests.
//
// Subscribed to: chat:presence, chat:profile (nickname changes), chat:blocks (block changes),
// chat:membership (memberships that ended),
// __keyevent@<db>__:expired (presence keys of dead nodes), and exactly the chat:room:{id} /
// chat:typing:{id} / chat:user:{id} channels the fanout_hub asks for (rooms with local
// subscribers, users with a local /user/queue/notifications subscriber). Every message is handed
// to the hub on this thread; the hub posts to the sessions, so this thread never waits for a client.
//
// Reconnects by itself (100 ms .. 2 s backoff), then re-subscribes everything the hub
// currently needs. A PING every 5 s detects a silent connection. On each connection it
// enables expired-key notifications (CONFIG SET notify-keyspace-events, adding "Ex" to
// what is set); a server that refuses (managed Redis) is logged once: presence then
// relies on graceful OFFLINE only.
#include "gateway/fanout_hub.hpp"
#include "gateway/ports.hpp"
#include "redis/redis_client.hpp"

#include <atomic>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace chat::gateway {

class redis_subscriber final : public channel_control {
 public:
  // `on_presence_expired(user)` runs on the subscriber thread when user:presence:{user}
  // expired (after the hub got its OFFLINE).
  redis_subscriber(redis::endpoint ep, std::chrono::milliseconds timeout, fanout_hub& hub, const clock_source& clock,
                   std::function<void(std::int64_t)> on_presence_expired);
  ~redis_subscriber() override;
  redis_subscriber(const redis_subscriber&) = delete;
  redis_subscriber& operator=(const redis_subscriber&) = delete;

  void start();
  void stop();  // idempotent

  // channel_control: any thread, never blocks.
  void subscribe(const std::string& channel) override;
  void unsubscribe(const std::string& channel) override;

  bool connected() const noexcept { return connected_.load(std::memory_order_relaxed); }
  std::uint64_t connections() const noexcept { return connections_.load(std::memory_order_relaxed); }

 private:
  struct op {
    bool subscribe;
    std::string channel;
  };
  struct context;

  void run();
  void serve(context& ctx);
  void wake();
  void wait_wake(std::chrono::milliseconds timeout);
  void dispatch(std::string_view channel, std::string_view payload);

  const redis::endpoint endpoint_;
  const std::chrono::milliseconds timeout_;
  const std::string keyevent_channel_;
  fanout_hub& hub_;
  const clock_source& clock_;
  const std::function<void(std::int64_t)> on_presence_expired_;

  std::mutex mutex_;
  std::vector<op> ops_;
  int wake_fd_ = -1;
  std::atomic<bool> stopping_{false};
  std::atomic<bool> connected_{false};
  std::atomic<std::uint64_t> connections_{0};
  bool keyspace_warned_ = false;  // subscriber thread only
  std::thread thread_;
};

}  // namespace chat::gateway
