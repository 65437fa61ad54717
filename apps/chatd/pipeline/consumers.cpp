#include "pipeline/consumers.hpp"

#include "pipeline/dlt_sink.hpp"
#include "pipeline/receipts_handler.hpp"

#include <chat/log/log.hpp>
#include <chat/proto/names.hpp>

#include <stdexcept>

namespace chat::chatd::pipeline {

kafka::settings consumer_settings(const config& cfg, std::string_view group, std::chrono::milliseconds fetch_wait) {
  kafka::settings s{{"fetch.wait.max.ms", std::to_string(fetch_wait.count())}};
  for (auto& kv : kafka_consumer_settings(cfg)) s.push_back(std::move(kv));
  s.emplace_back("client.id", "chatd-" + cfg.node_id + "-" + std::string(group));
  return s;
}

namespace {

failure_policy policy_of(const config& cfg) {
  failure_policy p;
  p.policy = parse_infra_policy(cfg.infra_failure_policy).value_or(infra_policy::block);
  p.max_retries = cfg.consumer_retries;
  return p;
}

loop_options base_options(const config& cfg, std::string_view group, std::string_view topic,
                          std::chrono::milliseconds batch_wait) {
  loop_options o;
  o.group = std::string(group);
  o.topics = {std::string(topic)};
  o.max_batch = static_cast<std::size_t>(std::max(1, cfg.persist_batch_size));
  o.batch_wait = batch_wait;
  o.retry_backoff = cfg.consumer_retry_backoff;
  o.failures = policy_of(cfg);
  return o;
}

}  // namespace

consumer_set::consumer_set(const config& cfg, consumer_observers observers, message_log* publisher) {
  // Records no retry can fix go to <topic>.dlt on the same partition (docs/topics.md).
  auto dlt_sink = [&](std::string_view group) {
    auto settings = kafka_settings(cfg);
    settings.emplace_back("client.id", "chatd-" + cfg.node_id + "-" + std::string(group) + "-dlt");
    return std::make_unique<dlt_poison_sink>(settings, std::string(group), cfg.send_timeout, observers.on_dead_letter);
  };
  auto options_of = [&](std::string_view group, std::string_view topic, std::chrono::milliseconds batch_wait) {
    auto o = base_options(cfg, group, topic, batch_wait);
    if (observers.batch_observer) o.on_batch_done = observers.batch_observer(o.group);
    return o;
  };
  if (cfg.roles.persist) {
    const auto group = proto::consumer_groups::persistence;
    auto handler = std::make_unique<persistence_handler>(cfg);
    persistence_ = &handler->stats();
    loops_.push_back(std::make_unique<consumer_loop>(consumer_settings(cfg, group, default_fetch_wait),
                                                     options_of(group, proto::topics::messages, cfg.persist_batch_wait),
                                                     std::move(handler), dlt_sink(group)));
  }
  if (cfg.roles.broadcast) {
    // Live delivery: no waiting to fill a batch; whatever has been fetched goes in one
    // Redis round trip, so batches grow with the load and latency stays low.
    const auto group = proto::consumer_groups::broadcast;
    auto handler = std::make_unique<broadcast_handler>(cfg, observers.broadcast_consumed, observers.redis_published);
    broadcast_ = &handler->stats();
    loops_.push_back(std::make_unique<consumer_loop>(
        consumer_settings(cfg, group, broadcast_fetch_wait),
        options_of(group, proto::topics::messages, std::chrono::milliseconds(0)), std::move(handler), dlt_sink(group)));
  }
  if (cfg.roles.receipts) {
    const auto group = proto::consumer_groups::read_receipts;
    auto handler = std::make_unique<receipts_handler>(cfg);
    read_events_ = &handler->read_stats();
    loops_.push_back(std::make_unique<consumer_loop>(
        consumer_settings(cfg, group, default_fetch_wait),
        options_of(group, proto::topics::read_receipts, cfg.persist_batch_wait), std::move(handler), dlt_sink(group)));
  }
  if (cfg.roles.preview) {
    if (publisher == nullptr) throw std::runtime_error("the preview role needs a message_log to publish through");
    // Nothing is poison to this group: a record it cannot read is skipped (chat-persistence
    // dead-letters it), so its sink only logs and never runs.
    const auto group = proto::consumer_groups::preview;
    auto handler = std::make_unique<preview_handler>(cfg, *publisher);
    previews_ = &handler->stats();
    preview_ = handler.get();
    loops_.push_back(std::make_unique<consumer_loop>(consumer_settings(cfg, group, default_fetch_wait),
                                                     options_of(group, proto::topics::messages, cfg.persist_batch_wait),
                                                     std::move(handler),
                                                     std::make_unique<logging_poison_sink>(std::string(group))));
  }
}

consumer_set::~consumer_set() { stop(std::chrono::steady_clock::now()); }

void consumer_set::start() {
  for (auto& l : loops_) l->start();
}

void consumer_set::stop(std::chrono::steady_clock::time_point deadline) {
  for (auto& l : loops_) l->request_stop(deadline);
  for (auto& l : loops_) l->join();
  if (preview_ != nullptr) preview_->stop();
}

}  // namespace chat::chatd::pipeline
