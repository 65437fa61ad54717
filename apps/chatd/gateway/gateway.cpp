#include "gateway/gateway.hpp"

#include "gateway/db_directory.hpp"
#include "gateway/fanout_hub.hpp"
#include "gateway/handshake_gate.hpp"
#include "gateway/presence_service.hpp"
#include "gateway/redis_subscriber.hpp"
#include "gateway/session.hpp"
#include "gateway/tcp_transport.hpp"
#include "gateway/user_registry.hpp"
#include "gateway/ws_transport.hpp"
#include "version.hpp"

#include <chat/log/log.hpp>

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

namespace chat::gateway {

namespace net = boost::asio;
using namespace std::chrono_literals;

namespace {

session_settings settings_of(const chatd::config& cfg) {
  session_settings s;
  s.decoder_limits.max_frame_bytes = cfg.max_frame_bytes;
  s.decoder_limits.max_headers = cfg.max_headers;
  s.decoder_limits.max_header_line = std::min<std::size_t>(s.decoder_limits.max_header_line, cfg.max_frame_bytes);
  s.max_content_chars = cfg.max_content_chars;
  s.heartbeat_send_ms = cfg.heartbeat_send_ms;
  s.heartbeat_receive_ms = cfg.heartbeat_receive_ms;
  s.max_outbound_bytes = cfg.max_outbound_bytes;
  s.write_stall_timeout = cfg.write_stall_timeout;
  s.max_subscriptions = static_cast<std::size_t>(cfg.max_subscriptions);
  s.handshake_timeout = cfg.handshake_timeout;
  s.idle_timeout = cfg.idle_timeout;
  s.send_timeout = cfg.send_timeout;
  s.jwt_secret = cfg.jwt_secret;
  s.server_name = "chatd/" + std::string(chatd::chatd_version);
  return s;
}

user_limits limits_of(const chatd::config& cfg) {
  return user_limits{cfg.max_sessions_per_user, cfg.rate_limit_per_s, cfg.rate_limit_burst,
                     cfg.rate_limit_disconnect_factor, cfg.typing_interval};
}

constexpr auto sweep_every = 30s;

}  // namespace

// Everything the sessions share. Sessions hold it through their env (an aliasing
// shared_ptr), so it outlives the last of them whatever the order of destruction.
struct gateway::node {
  node(net::io_context& ioc, const chatd::config& cfg, store::db_pool& pool, chatd::message_log& log)
      : redis_ep(redis::parse_url(cfg.redis_url).value_or(redis::endpoint{})),
        node_id(cfg.node_id),
        users(limits_of(cfg)),
        dir(pool),
        presence(redis_ep, cfg.dependency_timeout, presence_options{cfg.node_id, cfg.presence_ttl, cfg.presence_refresh},
                 clock),
        subscriber(redis_ep, cfg.dependency_timeout, hub, clock,
                   [this](std::int64_t user) { presence.on_key_expired(user); }),
        env{settings_of(cfg), clock, dir, log, hub, users, presence, presence, sessions, stats, nullptr},
        sweep(ioc),
        stomp_endpoint(net::ip::make_address(cfg.stomp_host), cfg.stomp_port),
        handshakes(std::make_shared<handshake_gate>(static_cast<std::size_t>(cfg.max_stomp_handshakes))),
        ws(ws_options{cfg.handshake_timeout}) {
    hub.set_control(&subscriber);
  }

  ~node() {
    subscriber.stop();
    presence.stop();
  }

  const redis::endpoint redis_ep;
  const std::string node_id;
  system_clock_source clock;
  gateway_stats stats;
  fanout_hub hub;
  user_registry users;
  db_directory dir;
  presence_service presence;
  redis_subscriber subscriber;
  session_set sessions;
  session_env env;
  net::steady_timer sweep;
  net::ip::tcp::endpoint stomp_endpoint;
  // --max-stomp-handshakes: one cap for the sessions awaiting CONNECT on both transports.
  std::shared_ptr<handshake_gate> handshakes;
  ws_options ws;
  std::shared_ptr<tcp_listener> listener;
  std::shared_ptr<std::atomic<bool>> accepting = std::make_shared<std::atomic<bool>>(true);
  std::atomic<std::uint64_t> next_session{1};
};

gateway::gateway(net::io_context& ioc, const chatd::config& cfg, store::db_pool& pool, chatd::message_log& log,
                 metrics::chat_metrics* metrics)
    : ioc_(ioc), node_(std::make_shared<node>(ioc, cfg, pool, log)) {
  node_->stats.metrics.store(metrics, std::memory_order_release);
}

gateway::~gateway() {
  // Sessions may outlive this object (held by handlers of a stopped io_context); the metrics
  // do not.
  node_->stats.metrics.store(nullptr, std::memory_order_release);
  if (node_->listener) node_->listener->stop();
  node_->subscriber.stop();
  node_->presence.stop();
}

void gateway::start() {
  auto& n = *node_;
  n.presence.start();
  n.subscriber.start();
  std::weak_ptr<node> weak = node_;
  session_factory factory = [weak](const net::any_io_executor& strand) -> std::shared_ptr<session> {
    auto n = weak.lock();
    if (!n || !n->accepting->load()) return nullptr;
    const std::shared_ptr<const session_env> env(n, &n->env);
    return std::make_shared<session>(strand, env, make_session_id(n->node_id, n->next_session.fetch_add(1)));
  };
  n.listener = std::make_shared<tcp_listener>(ioc_, n.stomp_endpoint, factory, n.handshakes);
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
  log::info("stomp listening", {{"stomp", n.stomp_endpoint.address().to_string() + ":" + std::to_string(stomp_port())},
                                {"ws", "/ws"}});
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
  net::post(n.sweep.get_executor(), [node = node_] { node->sweep.cancel(); });
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
    log::warn("stomp sessions did not close in time; aborting them", {{"sessions", static_cast<std::int64_t>(left.size())}});
    for (const auto& s : left) net::post(s->executor(), [s] { s->force_close(); });
    n.sessions.wait_empty(std::min(deadline, steady_clock::now() + 1s));
  }
  n.subscriber.stop();
  n.presence.stop();
}

std::uint16_t gateway::stomp_port() const {
  return node_->listener ? node_->listener->local_endpoint().port() : 0;
}

std::size_t gateway::open_sessions() const { return node_->sessions.size(); }

std::size_t gateway::pending_handshakes() const { return node_->handshakes->pending(); }

std::uint64_t gateway::evicted_handshakes() const { return node_->handshakes->evicted(); }

const gateway_stats& gateway::stats() const { return node_->stats; }

}  // namespace chat::gateway
