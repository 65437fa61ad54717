#pragma once
// The consumers of one chatd node, by role (--roles): persist -> chat-persistence,
// broadcast -> chat-broadcast, receipts -> chat-read-receipts, preview -> chat-preview. Each is
// a consumer_loop on its own thread with its own connections (PostgreSQL and Redis; broadcast:
// Redis only; preview: the web, through its fetch workers, and the node's message_log).
#include "config/config.hpp"
#include "pipeline/broadcast_handler.hpp"
#include "pipeline/consumer_loop.hpp"
#include "pipeline/persistence_handler.hpp"
#include "pipeline/preview_handler.hpp"
#include "pipeline/receipts_handler.hpp"

#include <chat/kafka/settings.hpp>

#include <chrono>
#include <functional>
#include <string>
#include <memory>
#include <string_view>
#include <vector>

namespace chat::chatd::pipeline {

// librdkafka settings of a chatd consumer: fetch.wait.max.ms = `fetch_wait`, then
// kafka_consumer_settings(cfg) (brokers, --kafka-session-timeout, --kafka-property, which
// wins), then client.id. A real broker answers a fetch as soon as data arrives, so the
// fetch wait only bounds idle fetches there; the dev broker holds every fetch that finds
// nothing for the full time, so it adds up to that much latency in development and CI.
kafka::settings consumer_settings(const config& cfg, std::string_view group, std::chrono::milliseconds fetch_wait);

// fetch.wait.max.ms of the live-delivery consumer (chat-broadcast) and of the others.
inline constexpr std::chrono::milliseconds broadcast_fetch_wait{10};
inline constexpr std::chrono::milliseconds default_fetch_wait{100};

// Hooks for /metrics. Each is optional; the callbacks run on a consumer's thread and must
// not throw.
struct consumer_observers {
  // After each record written to a dead-letter topic (chat_dlt_records_total{topic}).
  std::function<void(const std::string& dlt_topic)> on_dead_letter;
  // Asked once per consumer group, in the constructor (on the caller's thread); the
  // callback it returns runs once per settled batch of that group
  // (loop_options::on_batch_done).
  std::function<std::function<void(std::chrono::nanoseconds batch_time, std::size_t records)>(const std::string& group)>
      batch_observer;
  // chat_stage_latency_seconds of the broadcast consumer: seconds since each record's createdAt
  // when its batch was fetched (broadcast_consumed) and when its PUBLISH returned (redis_published).
  stage_observer broadcast_consumed;
  stage_observer redis_published;
};

class consumer_set {
 public:
  // Creates and subscribes the consumers of the enabled roles (threads start in start()).
  // `publisher` (the preview role publishes message.preview through it; required with that role)
  // outlives the set. Throws std::runtime_error when a Kafka setting is invalid.
  explicit consumer_set(const config& cfg, consumer_observers observers = {}, message_log* publisher = nullptr);
  // stop(now) if still running.
  ~consumer_set();
  consumer_set(const consumer_set&) = delete;
  consumer_set& operator=(const consumer_set&) = delete;

  void start();
  // Graceful stop (docs/operations.md): every consumer finishes and commits its batch in hand,
  // retrying a failing one until `deadline`, then leaves its group. All stop in parallel. Then
  // the link preview workers stop (each finishing the fetch in hand, at most --preview-timeout).
  // Idempotent.
  void stop(std::chrono::steady_clock::time_point deadline);

  // For /metrics: the loops (group(), stats(), lag()) and the handlers' own counters
  // (nullptr when the role is off). Valid while the set lives.
  const std::vector<std::unique_ptr<consumer_loop>>& loops() const noexcept { return loops_; }
  const persistence_stats* persistence() const noexcept { return persistence_; }
  const broadcast_stats* broadcast() const noexcept { return broadcast_; }
  const read_events_stats* read_events() const noexcept { return read_events_; }
  const preview::preview_stats* previews() const noexcept { return previews_; }

 private:
  std::vector<std::unique_ptr<consumer_loop>> loops_;
  const persistence_stats* persistence_ = nullptr;
  const broadcast_stats* broadcast_ = nullptr;
  const read_events_stats* read_events_ = nullptr;
  const preview::preview_stats* previews_ = nullptr;
  preview_handler* preview_ = nullptr;  // owned by its loop
};

}  // namespace chat::chatd::pipeline
