#include "gateway_adapters/make_gateway.hpp"

#include "gateway/db_directory.hpp"
#include "gateway_adapters/presence_service.hpp"
#include "gateway_adapters/redis_subscriber.hpp"
#include "version.hpp"

#include <algorithm>

namespace chat::gateway {

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

class redis_and_postgres final : public node_services {
 public:
  redis_and_postgres(const redis::endpoint& ep, std::chrono::milliseconds redis_timeout, presence_options presence,
                     store::db_pool& pool, fanout_hub& hub, const clock_source& clock)
      : dir_(pool),
        presence_(ep, redis_timeout, std::move(presence), clock),
        subscriber_(ep, redis_timeout, hub, clock, [this](std::int64_t user) { presence_.on_key_expired(user); }) {}

  ~redis_and_postgres() override { stop(); }

  directory& dir() override { return dir_; }
  presence_sink& presence() override { return presence_; }
  typing_sink& typing() override { return presence_; }
  channel_control& bus() override { return subscriber_; }

  void start() override {
    presence_.start();
    subscriber_.start();
  }

  void stop() override {
    subscriber_.stop();
    presence_.stop();
  }

 private:
  db_directory dir_;
  presence_service presence_;
  redis_subscriber subscriber_;
};

}  // namespace

gateway_options options_of(const chatd::config& cfg) {
  gateway_options o;
  o.node_id = cfg.node_id;
  o.session = settings_of(cfg);
  o.users = limits_of(cfg);
  o.stomp_endpoint = boost::asio::ip::tcp::endpoint(boost::asio::ip::make_address(cfg.stomp_host), cfg.stomp_port);
  o.max_stomp_handshakes = static_cast<std::size_t>(cfg.max_stomp_handshakes);
  o.ws = ws_options{cfg.handshake_timeout};
  return o;
}

node_services_factory redis_and_postgres_services(const chatd::config& cfg, store::db_pool& pool) {
  return [ep = redis::parse_url(cfg.redis_url).value_or(redis::endpoint{}), timeout = cfg.dependency_timeout,
          presence = presence_options{cfg.node_id, cfg.presence_ttl, cfg.presence_refresh},
          &pool](fanout_hub& hub, const clock_source& clock) -> std::unique_ptr<node_services> {
    return std::make_unique<redis_and_postgres>(ep, timeout, presence, pool, hub, clock);
  };
}

std::unique_ptr<gateway> make_gateway(boost::asio::io_context& ioc, const chatd::config& cfg, store::db_pool& pool,
                                      chatd::message_log& log, metrics::chat_metrics* metrics) {
  return std::make_unique<gateway>(ioc, options_of(cfg), log, redis_and_postgres_services(cfg, pool), metrics);
}

}  // namespace chat::gateway
