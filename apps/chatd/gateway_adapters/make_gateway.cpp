#include "gateway_adapters/make_gateway.hpp"

#include "gateway/db_directory.hpp"
#include "gateway_adapters/last_seen_writer.hpp"
#include "gateway_adapters/presence_service.hpp"
#include "gateway_adapters/redis_limits.hpp"
#include "gateway_adapters/redis_subscriber.hpp"
#include "metrics/chat_metrics.hpp"
#include "version.hpp"

#include <chat/proto/names.hpp>

#include <algorithm>
#include <atomic>
#include <memory>
#include <string_view>

namespace chat::gateway {

namespace {

using namespace std::chrono_literals;

// How often a node syncs its users' limits with the cluster: the error bound of the
// cross-node limits (docs/stomp.md "Limits across nodes").
constexpr auto limits_sync_interval = 50ms;

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
  s.edit_window = cfg.edit_window;
  s.admission_timeout = cfg.admission_timeout;
  s.recovery_limit = cfg.recovery_limit;
  s.recovery_memory = cfg.recovery_memory;
  s.jwt_secret = cfg.jwt_secret;
  s.server_name = "chatd/" + std::string(chatd::chatd_version);
  return s;
}

user_limits limits_of(const chatd::config& cfg) {
  return user_limits{cfg.max_sessions_per_user, cfg.rate_limit_per_s, cfg.rate_limit_burst,
                     cfg.rate_limit_disconnect_factor, cfg.typing_interval};
}

// Limits across nodes (docs/stomp.md "Limits across nodes"): the Redis keys are scoped by the cluster's
// database name (nodes that share a Redis but not a database do not share limits).
std::string limits_scope_of(std::string_view database_url) {
  std::string_view name;
  if (const auto scheme = database_url.find("://"); scheme != std::string_view::npos) {
    const auto slash = database_url.find('/', scheme + 3);
    if (slash != std::string_view::npos) name = database_url.substr(slash + 1);
    name = name.substr(0, name.find('?'));
  } else if (const auto key = database_url.find("dbname="); key != std::string_view::npos) {
    name = database_url.substr(key + 7);
    name = name.substr(0, name.find(' '));
  }
  return name.empty() ? std::string("chat") : std::string(name);
}

std::shared_ptr<redis_limits> shared_limits_of(const chatd::config& cfg, metrics::chat_metrics* metrics) {
  redis_limits_options o;
  o.node_id = cfg.node_id;
  o.scope = limits_scope_of(cfg.database_url);
  o.interval = limits_sync_interval;
  o.sessions_ttl = cfg.presence_ttl;
  o.sessions_refresh = cfg.presence_refresh;
  auto* available = metrics == nullptr ? nullptr
                                       : &metrics->reg.get_gauge("chat_limits_shared_available",
                                                                 "1 while the per-user limits hold across nodes "
                                                                 "(Redis reachable), 0 while they are per node");
  return std::make_shared<redis_limits>(redis::parse_url(cfg.redis_url).value_or(redis::endpoint{}),
                                        cfg.dependency_timeout, std::move(o), available);
}

// CONNECT looks the user up (nickname) right before open_session: the same step fetches
// the user's cluster-wide limits, so that open_session counts the user's sessions on the
// other nodes and the first SENDs here see the user's cluster-wide budget. Both run at once;
// the lookup completes when both have.
class limits_directory final : public directory {
 public:
  limits_directory(directory& inner, redis_limits& limits) : inner_(inner), limits_(limits) {}

  void nickname(std::int64_t user_id, std::function<void(lookup_status, std::string)> done) override {
    struct join {
      std::function<void(lookup_status, std::string)> done;
      lookup_status status = lookup_status::unavailable;
      std::string nickname;
      std::atomic<int> waiting{2};
      void arrive() {
        if (waiting.fetch_sub(1, std::memory_order_acq_rel) == 1) done(status, std::move(nickname));
      }
    };
    auto j = std::make_shared<join>();
    j->done = std::move(done);
    limits_.prefetch(user_id, [j] { j->arrive(); });
    inner_.nickname(user_id, [j](lookup_status status, std::string nickname) {
      j->status = status;
      j->nickname = std::move(nickname);
      j->arrive();
    });
  }
  // The same for CONNECT's own lookup (nickname, rooms and blocks).
  void connecting_user(std::int64_t user_id, std::function<void(lookup_status, connecting_user_info)> done) override {
    struct join {
      std::function<void(lookup_status, connecting_user_info)> done;
      lookup_status status = lookup_status::unavailable;
      connecting_user_info info;
      std::atomic<int> waiting{2};
      void arrive() {
        if (waiting.fetch_sub(1, std::memory_order_acq_rel) == 1) done(status, std::move(info));
      }
    };
    auto j = std::make_shared<join>();
    j->done = std::move(done);
    limits_.prefetch(user_id, [j] { j->arrive(); });
    inner_.connecting_user(user_id, [j](lookup_status status, connecting_user_info info) {
      j->status = status;
      j->info = std::move(info);
      j->arrive();
    });
  }
  void membership(std::int64_t room_id, std::int64_t user_id,
                  std::function<void(lookup_status, room_gate)> done) override {
    inner_.membership(room_id, user_id, std::move(done));
  }
  void contacts(std::int64_t user_id, std::function<void(lookup_status, std::vector<std::int64_t>)> done) override {
    inner_.contacts(user_id, std::move(done));
  }
  void event_context(std::int64_t room_id, std::int64_t user_id, std::int64_t target_id,
                     std::function<void(lookup_status, chatd::target_context)> done) override {
    inner_.event_context(room_id, user_id, target_id, std::move(done));
  }
  void attachable_file(std::string file_id, std::int64_t user_id,
                       std::function<void(lookup_status, proto::file_attachment)> done) override {
    inner_.attachable_file(std::move(file_id), user_id, std::move(done));
  }
  void hide_message(std::int64_t user_id, std::int64_t room_id, std::int64_t message_id,
                    std::function<void(lookup_status)> done) override {
    inner_.hide_message(user_id, room_id, message_id, std::move(done));
  }
  void recovery(std::int64_t room_id, std::int64_t user_id, std::int64_t after_id, std::int32_t partition,
                std::int64_t stored_through, int limit,
                std::function<void(lookup_status, recovery_page)> done) override {
    inner_.recovery(room_id, user_id, after_id, partition, stored_through, limit, std::move(done));
  }
  void room_list(std::int64_t user_id, std::function<void(lookup_status, room_list_page)> done) override {
    inner_.room_list(user_id, std::move(done));
  }
  void room_summary(std::int64_t user_id, std::int64_t room_id,
                    std::function<void(lookup_status, std::optional<proto::room_summary>)> done) override {
    inner_.room_summary(user_id, room_id, std::move(done));
  }

 private:
  directory& inner_;
  redis_limits& limits_;
};

class redis_and_postgres final : public node_services {
 public:
  redis_and_postgres(const redis::endpoint& ep, std::chrono::milliseconds redis_timeout, presence_options presence,
                     store::db_pool& pool, const chatd::recent_messages* recent, fanout_hub& hub,
                     const clock_source& clock, std::shared_ptr<redis_limits> limits)
      : dir_(pool, recent),
        limits_(std::move(limits)),
        limits_dir_(limits_ ? std::make_unique<limits_directory>(dir_, *limits_) : nullptr),
        presence_(ep, redis_timeout, std::move(presence), clock),
        subscriber_(ep, redis_timeout, hub, clock, [this](std::int64_t user) { presence_.on_key_expired(user); }),
        last_seen_(pool) {
    presence_.on_offline([this](std::int64_t user, std::int64_t at_ms) { last_seen_.record(user, at_ms); });
    presence_.on_pass([this] { last_seen_.flush(); });
  }

  ~redis_and_postgres() override { stop(); }

  directory& dir() override { return limits_dir_ ? static_cast<directory&>(*limits_dir_) : dir_; }
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
  std::shared_ptr<redis_limits> limits_;  // also the registry's (user_limits::shared)
  std::unique_ptr<limits_directory> limits_dir_;
  presence_service presence_;
  redis_subscriber subscriber_;
  last_seen_writer last_seen_;  // fed by presence_ (its worker thread), which stops first
};

node_services_factory services_of(const chatd::config& cfg, store::db_pool& pool, const chatd::recent_messages* recent,
                                  std::shared_ptr<redis_limits> limits) {
  presence_options presence{cfg.node_id, cfg.presence_ttl, cfg.presence_refresh};
  presence.typing_throttle_prefix = "chat:typing:throttle:" + limits_scope_of(cfg.database_url) + ":";
  presence.typing_interval = cfg.typing_interval;
  presence.last_seen_claim_prefix =
      std::string(proto::redis_names::last_seen_claim_prefix) + limits_scope_of(cfg.database_url) + ":";
  return [ep = redis::parse_url(cfg.redis_url).value_or(redis::endpoint{}), timeout = cfg.dependency_timeout,
          presence = std::move(presence), &pool, recent,
          limits = std::move(limits)](fanout_hub& hub, const clock_source& clock) -> std::unique_ptr<node_services> {
    return std::make_unique<redis_and_postgres>(ep, timeout, presence, pool, recent, hub, clock, limits);
  };
}

}  // namespace

gateway_options options_of(const chatd::config& cfg) {
  gateway_options o;
  o.node_id = cfg.node_id;
  o.session = settings_of(cfg);
  o.users = limits_of(cfg);
  o.stomp_endpoint = boost::asio::ip::tcp::endpoint(boost::asio::ip::make_address(cfg.stomp_host), cfg.stomp_port);
  o.max_stomp_handshakes = static_cast<std::size_t>(cfg.max_stomp_handshakes);
  o.ws = ws_options{cfg.handshake_timeout, cfg.socket_send_buffer};
  o.feed.replay = cfg.sse_replay;
  return o;
}

node_services_factory redis_and_postgres_services(const chatd::config& cfg, store::db_pool& pool) {
  return services_of(cfg, pool, nullptr, nullptr);
}

std::unique_ptr<gateway> make_gateway(boost::asio::io_context& ioc, const chatd::config& cfg, store::db_pool& pool,
                                      chatd::message_log& log, chatd::admission_gate& admission,
                                      chatd::recent_messages& recent, metrics::chat_metrics* metrics,
                                      chatd::log_positions* positions, chatd::message_keys* keys,
                                      const chatd::tokens::revocation_cache* revocations,
                                      chatd::tokens::live_tokens* live_tokens) {
  auto options = options_of(cfg);
  options.revocations = revocations;
  options.live_tokens = live_tokens;
  options.positions = positions;
  options.keys = keys;
  auto limits = shared_limits_of(cfg, metrics);
  options.users.shared = limits;
  options.recent = &recent;
  return std::make_unique<gateway>(ioc, std::move(options), log, admission,
                                   services_of(cfg, pool, &recent, std::move(limits)), metrics);
}

}  // namespace chat::gateway
