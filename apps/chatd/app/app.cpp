#include "app/app.hpp"

#include "api/rest_api.hpp"
#include "gateway/gateway.hpp"
#include "health/health_monitor.hpp"
#include "metrics/chat_metrics.hpp"
#include "http/server.hpp"
#include "pipeline/kafka_message_log.hpp"
#include "pipeline/consumers.hpp"
#include "store/migrations.hpp"
#include "store/db_pool.hpp"
#include "version.hpp"

#include <chat/kafka/admin.hpp>
#include <chat/log/log.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>

#include <fstream>
#include <map>
#include <thread>

namespace chat::chatd {

namespace net = boost::asio;

namespace {

using clock = std::chrono::steady_clock;

std::string random_hex(std::size_t bytes) {
  std::ifstream urandom("/dev/urandom", std::ios::binary);
  std::string raw(bytes, '\0');
  urandom.read(raw.data(), static_cast<std::streamsize>(bytes));
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : raw) {
    out.push_back(digits[c >> 4]);
    out.push_back(digits[c & 15]);
  }
  return out;
}

// Retries `attempt` until it returns true or the deadline passes; logs each failure.
template <class F>
bool retry_until(clock::time_point deadline, std::string_view what, F&& attempt) {
  for (int n = 1;; ++n) {
    std::string error;
    if (attempt(error)) return true;
    if (clock::now() >= deadline) {
      log::error("giving up waiting for dependency", {{"component", what}, {"error", error}, {"attempts", n}});
      return false;
    }
    log::warn("dependency not ready, retrying", {{"component", what}, {"error", error}, {"attempt", n}});
    std::this_thread::sleep_for(std::chrono::milliseconds(std::min(2000, 200 * n)));
  }
}

}  // namespace

struct app::impl {
  config cfg;
  net::io_context ioc;
  std::unique_ptr<store::db_pool> pool;
  std::unique_ptr<health_monitor> health;
  http::router routes;
  std::shared_ptr<http::server> http_server;
  std::unique_ptr<kafka_message_log> kafka_log;  // the Kafka producer shared by every publisher
  metrics::registry metrics_registry;
  metrics::chat_metrics metrics{metrics_registry};  // SPEC §8; outlives every component

  // ---- pipeline (pipeline/): consumers ----
  std::unique_ptr<pipeline::consumer_set> consumers;  // by role; own threads and connections

  // ---- gateway (gateway/): STOMP sessions, fan-out, presence ----
  std::unique_ptr<gateway::gateway> stomp_gateway;  // null unless --roles has gateway

  // ---- REST (api/) ----
  std::unique_ptr<api::rest_api> rest;  // the §3 routes; uses pool and kafka_log

  explicit impl(config c) : cfg(std::move(c)), ioc(cfg.io_threads) {}

  bool migrate(clock::time_point deadline) {
    return retry_until(deadline, "postgres", [&](std::string& error) {
      try {
        auto conn = store::connect(cfg.database_url, 2);
        const auto result = store::apply_migrations(*conn);
        log::info("schema migrated",
                  {{"applied", static_cast<std::int64_t>(result.applied.size())}, {"version", result.current_version}});
        return true;
      } catch (const std::exception& e) {
        error = e.what();
        return false;
      }
    });
  }

  bool ensure_topics(clock::time_point deadline) {
    auto settings = kafka_settings(cfg);
    settings.emplace_back("client.id", "chatd-admin-" + cfg.node_id);
    kafka::admin admin(settings);
    std::vector<kafka::topic_spec> specs;
    for (const char* name : {"chat.messages", "chat.read-receipts", "chat.messages.dlt", "chat.read-receipts.dlt"}) {
      specs.push_back({name, cfg.kafka_partitions, cfg.kafka_replication_factor});
    }
    return retry_until(deadline, "kafka", [&](std::string& error) {
      const auto outcomes = admin.ensure_topics(specs, cfg.dependency_timeout);
      bool ok = true;
      for (const auto& o : outcomes) {
        if (o.ok) {
          if (o.created) log::info("kafka topic created", {{"topic", o.name}, {"partitions", o.partitions}});
          continue;
        }
        ok = false;
        error = o.name + ": " + o.error;
      }
      return ok;
    });
  }

  // Graceful shutdown (SPEC §8), on its own thread; ends by stopping the I/O loop.
  void shutdown() {
    const auto deadline = clock::now() + cfg.shutdown_timeout;
    auto left = [&] {
      return std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock::now());
    };
    http_server->stop();
    // ---- gateway: stop accepting and stop reading frames (no new SENDs) here ----
    if (stomp_gateway) stomp_gateway->stop_accepting();

    // Every accepted SEND gets its RECEIPT: wait for the broker's acknowledgements.
    if (const auto unacked = kafka_log->flush(std::max(left(), std::chrono::milliseconds(0))); unacked != 0) {
      log::warn("producer flush timed out", {{"unacknowledged", static_cast<std::int64_t>(unacked)}});
    }
    // ---- gateway: ERROR "server shutting down" to every session, close, drain writes here ----
    if (stomp_gateway) {
      stomp_gateway->shutdown(std::clamp(left(), std::chrono::milliseconds(0), std::chrono::milliseconds(10000)));
    }

    // ---- pipeline: stop consumers (finish and commit in-flight batches) here ----
    // A few seconds before the overall deadline: a retried batch may still be in a
    // connect attempt when its deadline passes, and the rest of the shutdown follows.
    if (consumers) consumers->stop(std::max(clock::now(), deadline - std::chrono::seconds(3)));
    ioc.stop();
  }

  void add_routes() {
    routes.add(http::verb::get, "/healthz", [](const http::request&, const http::path_params&, http::responder r) {
      r(http::json_response(http::status::ok, R"({"status":"UP"})"));
    });
    routes.add(http::verb::get, "/metrics", [this](const http::request&, const http::path_params&, http::responder r) {
      http::response res{http::status::ok, 11};
      res.set(http::bhttp::field::content_type, "text/plain; version=0.0.4; charset=utf-8");
      res.body() = metrics_registry.render();
      res.prepare_payload();
      r(std::move(res));
    });
    routes.add(http::verb::get, "/readyz", [this](const http::request&, const http::path_params&, http::responder r) {
      const auto snap = health->snapshot();
      r(http::json_response(snap.ready ? http::status::ok : http::status::service_unavailable,
                            health_monitor::to_json(snap)));
    });
  }
};

app::app(config cfg) : impl_(std::make_unique<impl>(std::move(cfg))) {}
app::~app() = default;

int app::migrate_only() {
  const auto deadline = clock::now() + impl_->cfg.startup_timeout;
  return impl_->migrate(deadline) ? 0 : 1;
}

int app::run() {
  auto& s = *impl_;
  const auto& cfg = s.cfg;
  log::info("chatd starting", {{"version", chatd_version}, {"node", cfg.node_id}});
  if (cfg.jwt_secret.empty()) {
    s.cfg.jwt_secret = random_hex(32);
    log::warn("--dev: using a random JWT secret; tokens die with this process");
  }

  const auto deadline = clock::now() + cfg.startup_timeout;
  if (!cfg.skip_migrations && !s.migrate(deadline)) return 1;
  if (cfg.kafka_create_topics && !s.ensure_topics(deadline)) return 1;

  s.pool = std::make_unique<store::db_pool>(cfg.database_url, redis::parse_url(cfg.redis_url).value_or(redis::endpoint{}),
                                           cfg.db_pool_size, static_cast<std::size_t>(cfg.db_queue_limit),
                                           cfg.dependency_timeout);
  s.pool->start();
  s.health = std::make_unique<health_monitor>(cfg);
  s.health->check_now();
  s.health->start();

  s.kafka_log = std::make_unique<kafka_message_log>(cfg);
  s.add_routes();

  // ---- pipeline: start consumers here ----
  try {
    s.consumers = std::make_unique<pipeline::consumer_set>(
        cfg, [&s](const std::string& dlt_topic) { s.metrics.dlt_records(dlt_topic).inc(); });
    // chat_messages_consumed_total and chat_consumer_lag, refreshed on every scrape.
    s.metrics_registry.on_collect([&s, seen = std::make_shared<std::map<std::string, std::uint64_t>>()] {
      for (const auto& loop : s.consumers->loops()) {
        const std::string group(loop->group());
        const std::uint64_t done = loop->stats().records.load(std::memory_order_relaxed);
        auto& before = (*seen)[group];
        if (done > before) s.metrics.consumed(group).inc(done - before);
        before = done;
        std::int64_t lag = 0;
        for (const auto& [partition, behind] : loop->lag()) lag += std::max<std::int64_t>(0, behind);
        s.metrics.consumer_lag(group).set(static_cast<double>(lag));
      }
    });
  } catch (const std::exception& e) {
    log::error("cannot create Kafka consumers", {{"error", e.what()}});
    return 1;
  }
  s.consumers->start();

  // ---- REST: register routes on s.routes here ----
  s.rest = std::make_unique<api::rest_api>(s.cfg, *s.pool, *s.kafka_log);
  s.rest->on_room_created([&s] { s.metrics.rooms_created.inc(); });
  s.rest->register_routes(s.routes);

  // ---- gateway: start STOMP listeners here; set `ws_upgrade` for /ws ----
  http::upgrade_handler ws_upgrade = nullptr;
  if (cfg.roles.gateway) {
    s.stomp_gateway = std::make_unique<gateway::gateway>(s.ioc, cfg, *s.pool, *s.kafka_log, &s.metrics);
    try {
      s.stomp_gateway->start();
    } catch (const std::exception& e) {
      log::error("cannot listen", {{"address", cfg.stomp_host}, {"port", cfg.stomp_port}, {"error", e.what()}});
      return 1;
    }
    ws_upgrade = s.stomp_gateway->ws_upgrade_handler();
  }

  const auto http_ep = net::ip::tcp::endpoint(net::ip::make_address(cfg.http_host), cfg.http_port);
  s.http_server = std::make_shared<http::server>(s.ioc, http_ep, s.routes, http::server_limits{}, ws_upgrade);
  try {
    s.http_server->start();
  } catch (const std::exception& e) {
    log::error("cannot listen", {{"address", cfg.http_host}, {"port", cfg.http_port}, {"error", e.what()}});
    return 1;
  }
  log::info("listening", {{"http", cfg.http_host + ":" + std::to_string(cfg.http_port)}});

  net::signal_set signals(s.ioc, SIGINT, SIGTERM);
  std::thread shutdown_thread;
  signals.async_wait([&s, &shutdown_thread](const boost::system::error_code& ec, int sig) {
    if (ec) return;
    log::info("shutting down", {{"signal", sig}});
    // The sequence blocks (flushes, drains), so it runs on its own thread while the I/O
    // threads keep writing RECEIPTs and goodbyes.
    shutdown_thread = std::thread([&s] { s.shutdown(); });
  });

  std::vector<std::thread> threads;
  for (int i = 1; i < cfg.io_threads; ++i) threads.emplace_back([&s] { s.ioc.run(); });
  s.ioc.run();
  for (auto& t : threads) t.join();
  if (shutdown_thread.joinable()) shutdown_thread.join();

  s.kafka_log->stop(std::chrono::milliseconds(1000));
  s.health->stop();
  s.pool->stop();
  log::info("chatd stopped");
  return 0;
}

}  // namespace chat::chatd
