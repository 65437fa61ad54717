#include "health/health_monitor.hpp"

#include "redis/redis_client.hpp"
#include "store/connection.hpp"

#include <chat/kafka/admin.hpp>
#include <chat/log/log.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>

namespace chat::chatd {
namespace {

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

health_monitor::health_monitor(const config& cfg) : cfg_(cfg) {
  auto settings = kafka_settings(cfg);
  settings.emplace_back("client.id", "chatd-health-" + cfg.node_id);
  kafka_ = std::make_unique<kafka::admin>(settings);
  auto ep = redis::parse_url(cfg.redis_url);
  redis_ = std::make_unique<redis::client>(ep.value_or(redis::endpoint{}), cfg.dependency_timeout);
  const int secs = static_cast<int>(std::max<std::int64_t>(1, cfg.dependency_timeout.count() / 1000));
  pg_ = std::make_unique<store::connection>(cfg.database_url, secs);
}

health_monitor::~health_monitor() { stop(); }

void health_monitor::start() {
  thread_ = std::thread([this] { run(); });
}

void health_monitor::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

health_snapshot health_monitor::snapshot() const {
  std::lock_guard lock(mutex_);
  return snapshot_;
}

void health_monitor::run() {
  for (;;) {
    check_now();
    std::unique_lock lock(mutex_);
    if (cv_.wait_for(lock, cfg_.health_interval, [this] { return stopping_; })) return;
  }
}

void health_monitor::check_now() {
  health_snapshot next;
  next.components["postgres"] = check_postgres();
  next.components["redis"] = check_redis();
  next.components["kafka"] = check_kafka();
  {
    std::lock_guard checks_lock(checks_mutex_);
    for (const auto& [name, check] : extra_checks_) {
      auto& c = next.components[name] = check();
      c.checked_at_ms = now_ms();
    }
  }
  next.ready = true;
  for (const auto& [_, c] : next.components) next.ready = next.ready && c.up;

  std::lock_guard lock(mutex_);
  for (const auto& [name, c] : next.components) {
    const auto it = snapshot_.components.find(name);
    const bool was_up = it != snapshot_.components.end() && it->second.up;
    if (it == snapshot_.components.end() || was_up != c.up) {
      if (c.up) {
        log::info("dependency up", {{"component", name}});
      } else {
        log::warn("dependency down", {{"component", name}, {"error", c.error}});
      }
    }
  }
  snapshot_ = std::move(next);
}

void health_monitor::add_check(std::string name, std::function<component_status()> check) {
  {
    // Not ready until the new component's first round says so.
    std::lock_guard lock(mutex_);
    auto& c = snapshot_.components[name];
    c.up = false;
    c.error = "not checked yet";
    c.checked_at_ms = now_ms();
    snapshot_.ready = false;
  }
  std::lock_guard lock(checks_mutex_);
  extra_checks_.emplace_back(std::move(name), std::move(check));
}

component_status health_monitor::check_postgres() {
  component_status st;
  st.checked_at_ms = now_ms();
  if (auto pinged = pg_->ping(); pinged) {
    st.up = true;
  } else {
    st.error = std::move(pinged.error().message);
  }
  return st;
}

component_status health_monitor::check_redis() {
  component_status st;
  st.checked_at_ms = now_ms();
  const auto reply = redis_->command({"PING"});
  if (!reply) {
    st.error = redis_->last_error();
  } else if (reply->type == redis::reply::kind::error) {
    st.error = reply->str;
  } else {
    st.up = true;
  }
  return st;
}

component_status health_monitor::check_kafka() {
  component_status st;
  st.checked_at_ms = now_ms();
  st.error = kafka_->ping(cfg_.dependency_timeout);
  st.up = st.error.empty();
  return st;
}

std::string health_monitor::to_json(const health_snapshot& s) {
  nlohmann::json components = nlohmann::json::object();
  for (const auto& [name, c] : s.components) {
    nlohmann::json j = {{"status", c.up ? "UP" : "DOWN"}};
    if (!c.up) j["error"] = c.error;
    components[name] = std::move(j);
  }
  nlohmann::json body = {{"status", s.ready ? "UP" : "DOWN"}, {"components", std::move(components)}};
  return body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace chat::chatd
