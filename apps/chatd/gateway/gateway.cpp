#include "gateway/gateway.hpp"

#include "gateway/fanout_hub.hpp"
#include "metrics/chat_metrics.hpp"
#include "gateway/handshake_gate.hpp"
#include "gateway/session.hpp"
#include "gateway/tcp_transport.hpp"
#include "gateway/user_registry.hpp"
#include "gateway/ws_transport.hpp"

#include <chat/log/log.hpp>

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

namespace chat::gateway {

namespace net = boost::asio;
using namespace std::chrono_literals;

namespace {

constexpr auto sweep_every = 30s;
// How often the admission gate refills its tokens and admits waiters (rate control).
constexpr auto admission_tick_every = 10ms;
// Room feed timers: a room.added past its arm wait, expired replay rings and users.
constexpr auto feed_tick_every = 250ms;

}  // namespace

// Everything the sessions share. Sessions hold it through their env (an aliasing
// shared_ptr), so it outlives the last of them whatever the order of destruction.
struct gateway::node {
  node(net::io_context& ioc, gateway_options options, chatd::message_log& log, chatd::admission_gate& admission,
       const node_services_factory& make_services)
      : node_id(std::move(options.node_id)),
        users(options.users),
        services(make_services(hub, clock)),
        env{std::move(options.session), clock,    services->dir(), log,       hub,    users, services->presence(),
            services->typing(),         sessions, stats,           admission, nullptr},
        feed(std::make_shared<room_feed>(hub, services->dir(), clock, options.feed)),
        sweep(ioc),
        admission_tick(ioc),
        feed_tick(ioc),
        stomp_endpoint(options.stomp_endpoint),
        handshakes(std::make_shared<handshake_gate>(options.max_stomp_handshakes)),
        ws(options.ws) {
    hub.set_control(&services->bus());
    hub.set_recent(options.recent);
    hub.set_replay_depth(static_cast<std::size_t>(std::max(env.settings.recovery_memory, 0)));
    env.recent = options.recent;
    env.positions = options.positions;
    env.keys = options.keys;
    env.revocations = options.revocations;
    env.live_tokens = options.live_tokens;
    hub.set_listener(feed.get());
    env.feed = feed.get();
  }

  ~node() { services->stop(); }

  const std::string node_id;
  system_clock_source clock;
  gateway_stats stats;
  fanout_hub hub;
  user_registry users;
  std::unique_ptr<node_services> services;
  session_set sessions;
  session_env env;
  std::shared_ptr<room_feed> feed;  // the hub's listener; destroyed before the services
  net::steady_timer sweep;
  net::steady_timer admission_tick;
  net::steady_timer feed_tick;
  net::ip::tcp::endpoint stomp_endpoint;
  // --max-stomp-handshakes: one cap for the sessions awaiting CONNECT on both transports.
  std::shared_ptr<handshake_gate> handshakes;
  ws_options ws;
  std::shared_ptr<tcp_listener> listener;
  std::shared_ptr<std::atomic<bool>> accepting = std::make_shared<std::atomic<bool>>(true);
  std::atomic<std::uint64_t> next_session{1};
};

gateway::gateway(net::io_context& ioc, gateway_options options, chatd::message_log& log,
                 chatd::admission_gate& admission, const node_services_factory& make_services,
                 metrics::chat_metrics* metrics)
    : ioc_(ioc), node_(std::make_shared<node>(ioc, std::move(options), log, admission, make_services)) {
  node_->stats.metrics.store(metrics, std::memory_order_release);
  node_->hub.set_received_latency(metrics != nullptr ? &metrics->stage_node_received : nullptr);
}

gateway::~gateway() {
  // Sessions may outlive this object (held by handlers of a stopped io_context); the metrics
  // do not.
  node_->stats.metrics.store(nullptr, std::memory_order_release);
  node_->hub.set_received_latency(nullptr);
  if (node_->listener) node_->listener->stop();
  node_->services->stop();
}

void gateway::start() {
  auto& n = *node_;
  n.services->start();
  std::weak_ptr<node> weak = node_;
  session_factory factory = [weak](const net::any_io_executor& strand) -> std::shared_ptr<session> {
    auto n = weak.lock();
    if (!n || !n->accepting->load()) return nullptr;
    const std::shared_ptr<const session_env> env(n, &n->env);
    return std::make_shared<session>(strand, env, make_session_id(n->node_id, n->next_session.fetch_add(1)));
  };
  n.listener = std::make_shared<tcp_listener>(ioc_, n.stomp_endpoint, factory, n.handshakes, n.ws.send_buffer);
  n.listener->start();

  // Forget idle users' rate-limit state now and then.
  struct sweeper {
    std::weak_ptr<node> weak;
    void operator()(const boost::system::error_code& ec) const {
      auto n = weak.lock();
      if (ec || !n || !n->accepting->load()) return;
      n->users.sweep(n->clock.now());
      n->sweep.expires_after(sweep_every);
      n->sweep.async_wait(*this);
    }
  };
  n.sweep.expires_after(sweep_every);
  n.sweep.async_wait(sweeper{weak});
  struct admission_ticker {
    std::weak_ptr<node> weak;
    void operator()(const boost::system::error_code& ec) const {
      auto n = weak.lock();
      if (ec || !n || !n->accepting->load()) return;
      n->env.admission.tick(chatd::admission_gate::clock::now());
      n->admission_tick.expires_after(admission_tick_every);
      n->admission_tick.async_wait(*this);
    }
  };
  n.admission_tick.expires_after(admission_tick_every);
  n.admission_tick.async_wait(admission_ticker{weak});
  struct feed_ticker {
    std::weak_ptr<node> weak;
    void operator()(const boost::system::error_code& ec) const {
      auto n = weak.lock();
      if (ec || !n || !n->accepting->load()) return;
      n->feed->tick();
      n->feed_tick.expires_after(feed_tick_every);
      n->feed_tick.async_wait(*this);
    }
  };
  n.feed_tick.expires_after(feed_tick_every);
  n.feed_tick.async_wait(feed_ticker{weak});
  log::info("stomp listening",
            {{"stomp", n.stomp_endpoint.address().to_string() + ":" + std::to_string(stomp_port())}, {"ws", "/ws"}});
}

http::upgrade_handler gateway::ws_upgrade_handler() {
  std::weak_ptr<node> weak = node_;
  session_factory factory = [weak](const net::any_io_executor& strand) -> std::shared_ptr<session> {
    auto n = weak.lock();
    if (!n || !n->accepting->load()) return nullptr;
    const std::shared_ptr<const session_env> env(n, &n->env);
    return std::make_shared<session>(strand, env, make_session_id(n->node_id, n->next_session.fetch_add(1)),
                                     transport_kind::websocket);
  };
  return make_ws_upgrade_handler(std::move(factory), node_->ws, node_->accepting, node_->handshakes);
}

void gateway::stop_accepting() {
  auto& n = *node_;
  n.accepting->store(false);
  if (n.listener) n.listener->stop();
  net::post(n.sweep.get_executor(), [node = node_] {
    node->sweep.cancel();
    node->admission_tick.cancel();
    node->feed_tick.cancel();
  });
  // GET /api/rooms/stream readers: their streams end (written out, then closed).
  n.feed->shutdown();
  for (const auto& s : n.sessions.snapshot()) {
    net::post(s->executor(), [s] { s->stop_reading(); });
  }
}

void gateway::shutdown(std::chrono::milliseconds budget) {
  auto& n = *node_;
  const auto start = steady_clock::now();
  const auto deadline = start + budget;
  // Leave a little of the budget for the presence withdrawal.
  const auto drain_deadline = start + budget * 3 / 4;
  const auto sessions = n.sessions.snapshot();
  for (const auto& s : sessions) {
    net::post(s->executor(), [s] { s->shut_down(); });
  }
  log::info("stomp sessions closing", {{"sessions", static_cast<std::int64_t>(sessions.size())}});
  if (!n.sessions.wait_empty(drain_deadline)) {
    const auto left = n.sessions.snapshot();
    log::warn("stomp sessions did not close in time; aborting them",
              {{"sessions", static_cast<std::int64_t>(left.size())}});
    for (const auto& s : left) net::post(s->executor(), [s] { s->force_close(); });
    n.sessions.wait_empty(std::min(deadline, steady_clock::now() + 1s));
  }
  n.services->stop();
}

std::uint16_t gateway::stomp_port() const { return node_->listener ? node_->listener->local_endpoint().port() : 0; }

std::size_t gateway::open_sessions() const { return node_->sessions.size(); }

std::size_t gateway::pending_handshakes() const { return node_->handshakes->pending(); }

std::uint64_t gateway::evicted_handshakes() const { return node_->handshakes->evicted(); }

const gateway_stats& gateway::stats() const { return node_->stats; }

room_feed& gateway::feed() { return *node_->feed; }

}  // namespace chat::gateway
