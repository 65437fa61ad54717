#include "app/app.hpp"

#include "api/file_sweeper.hpp"
#include "api/rest_api.hpp"
#include "core/admission_gate.hpp"
#include "core/message_keys.hpp"
#include "core/recent_messages.hpp"
#include "gateway/gateway.hpp"
#include "gateway/room_stream.hpp"
#include "gateway_adapters/make_gateway.hpp"
#include "gateway_adapters/redis_message_keys.hpp"
#include "health/health_monitor.hpp"
#include "metrics/chat_metrics.hpp"
#include "metrics/http_red.hpp"
#include "http/server.hpp"
#include "pipeline/kafka_log_positions.hpp"
#include "pipeline/kafka_message_log.hpp"
#include "pipeline/consumers.hpp"
#include "scheduler/schedule_rules.hpp"
#include "scheduler/scheduler.hpp"
#include "store/migrations.hpp"
#include "store/db_pool.hpp"
#include "token_adapters/revocation_feed.hpp"
#include "tokens/live_tokens.hpp"
#include "tokens/revocations.hpp"
#include "version.hpp"

#include <chat/kafka/admin.hpp>
#include <chat/kafka/reader.hpp>
#include <chat/proto/names.hpp>
#include <chat/log/log.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>

#include <sys/resource.h>

#include <filesystem>
#include <fstream>
#include <array>
#include <map>
#include <mutex>
#include <thread>

namespace chat::chatd {

namespace net = boost::asio;

namespace {

constexpr const char* read_events_help =
    "Members' read marks sent to the room's live subscribers as chat-event:read (published), or not sent "
    "because Redis could not be reached (lost; the mark itself is stored)";

using clock = std::chrono::steady_clock;

// chat_previews_* (docs/operations.md "Link previews"): the preview role's counters, brought to
// the registry on each scrape (the previewer counts with atomics on its own threads).
void collect_previews(metrics::registry& registry, const preview::preview_stats& stats) {
  struct series {
    metrics::counter* counter;
    const std::atomic<std::uint64_t>* source;
    std::uint64_t seen = 0;
  };
  auto all = std::make_shared<std::pair<std::mutex, std::vector<series>>>();
  auto add = [&](const char* name, const char* help, const metrics::labels& l, const std::atomic<std::uint64_t>& src) {
    all->second.push_back({&registry.get_counter(name, help, l), &src});
  };
  add("chat_previews_fetched_total", "Link previews made from a fetched page", {}, stats.fetched);
  add("chat_previews_cached_total",
      "Messages whose link preview came from the node's cache (or from a fetch of the same URL in flight)", {},
      stats.cached);
  add("chat_previews_dropped_total",
      "Messages given no link preview because the fetch queue (or a URL's waiters) was full", {}, stats.dropped);
  add("chat_previews_published_total", "message.preview events acknowledged by Kafka", {}, stats.published);
  for (const auto r : preview::all_refusals) {
    add("chat_previews_refused_total",
        "URLs not fetched by rule (address, port, scheme, allow list) or pages refused (type, size, redirects)",
        {{"reason", std::string(preview::to_string(r))}}, stats.refused[static_cast<std::size_t>(r)]);
  }
  for (const auto f : preview::all_failures) {
    add("chat_previews_failed_total", "Link preview fetches that failed, or pages with nothing to preview",
        {{"reason", std::string(preview::to_string(f))}}, stats.failed[static_cast<std::size_t>(f)]);
  }
  registry.on_collect([all] {
    std::lock_guard lock(all->first);
    for (auto& s : all->second) {
      const std::uint64_t now = s.source->load(std::memory_order_relaxed);
      if (now > s.seen) s.counter->inc(now - s.seen);
      s.seen = now;
    }
  });
}

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

// Every connection is a file descriptor; running out of them stalls the listeners and the
// connections to PostgreSQL, Redis and Kafka alike. Raises the soft RLIMIT_NOFILE to the
// hard limit (a systemd service starts with a soft limit of 1024) and returns the soft
// limit in force (0 if unknown).
std::uint64_t raise_open_files_limit() {
  rlimit lim{};
  if (getrlimit(RLIMIT_NOFILE, &lim) != 0) return 0;
  // Linux refuses more than fs.nr_open (1048576 by default), so an unlimited hard limit
  // is not a usable target.
  constexpr rlim_t ceiling = 1 << 20;
  const rlim_t target = lim.rlim_max == RLIM_INFINITY ? std::max<rlim_t>(lim.rlim_cur, ceiling) : lim.rlim_max;
  if (lim.rlim_cur != RLIM_INFINITY && lim.rlim_cur < target) {
    rlimit raised = lim;
    raised.rlim_cur = target;
    if (setrlimit(RLIMIT_NOFILE, &raised) == 0) lim = raised;
  }
  log::info("open files limit",
            {{"soft", static_cast<std::int64_t>(lim.rlim_cur)},
             {"hard", lim.rlim_max == RLIM_INFINITY ? std::int64_t{-1} : static_cast<std::int64_t>(lim.rlim_max)}});
  return lim.rlim_cur == RLIM_INFINITY ? 0 : static_cast<std::uint64_t>(lim.rlim_cur);
}

// Entries of /proc/self/fd (Linux), or -1.
double count_open_fds() {
  std::error_code ec;
  std::filesystem::directory_iterator it("/proc/self/fd", ec);
  if (ec) return -1;
  double n = 0;
  for (const auto end = std::filesystem::directory_iterator(); it != end; it.increment(ec)) {
    if (ec) return -1;
    ++n;
  }
  return n - 1;  // the iterator's own descriptor
}

// Writes {"http":N,"stomp":N,"metrics":N} (stomp 0 without the gateway role) to `path`
// atomically: a reader polling for the file never sees it half-written.
bool write_ports_file(const std::string& path, std::uint16_t http_port, std::uint16_t stomp_port,
                      std::uint16_t metrics_port) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << "{\"http\":" << http_port << ",\"stomp\":" << stomp_port << ",\"metrics\":" << metrics_port << "}\n";
    if (!out.flush()) {
      log::error("cannot write --ports-file", {{"path", tmp}});
      return false;
    }
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) {
    log::error("cannot write --ports-file", {{"path", path}, {"error", ec.message()}});
    return false;
  }
  return true;
}

// Whether an Authorization header is "Bearer <token>", compared in constant time: the
// time of a refusal tells nothing about how much of a guess was right.
bool bearer_matches(std::string_view header, const std::string& token) {
  constexpr std::string_view scheme = "Bearer ";
  if (header.size() != scheme.size() + token.size() || !header.starts_with(scheme)) return false;
  header.remove_prefix(scheme.size());
  unsigned char diff = 0;
  for (std::size_t i = 0; i < token.size(); ++i) diff |= static_cast<unsigned char>(header[i] ^ token[i]);
  return diff == 0;
}

}  // namespace

struct app::impl {
  config cfg;
  net::io_context ioc;
  std::unique_ptr<store::db_pool> pool;
  std::unique_ptr<health_monitor> health;
  http::router routes;
  std::shared_ptr<http::server> http_server;
  // ---- exposure: /metrics on its own listener (--metrics-host/--metrics-port), RED metrics ----
  http::router metrics_routes;
  std::shared_ptr<http::server> metrics_server;
  // chat_http_requests_total and chat_http_request_duration_seconds, per route pattern
  std::unique_ptr<metrics::http_red> http_red;
  // Admission control of every publisher (SENDs wait, REST answers 503). Before kafka_log:
  // its delivery callbacks release slots until the producer is gone.
  std::unique_ptr<admission_gate> admission;
  // What this node saw acknowledged or live (event checks of targets not stored yet). Before
  // kafka_log: its delivery callbacks record into it until the producer is gone.
  recent_messages recent;
  // Retried messageKeys answer the id the key got first (core/message_keys.hpp), for the REST
  // publishers and the gateway. Before kafka_log, whose delivery callbacks claim keys.
  std::shared_ptr<message_keys> keys;
  std::unique_ptr<kafka_message_log> kafka_log;      // the Kafka producer shared by every publisher
  std::unique_ptr<recording_message_log> publisher;  // kafka_log, telling `recent`: what publishers use
  metrics::registry metrics_registry;
  metrics::chat_metrics metrics{metrics_registry};  // docs/operations.md; outlives every component

  // ---- pipeline (pipeline/): consumers ----
  std::unique_ptr<pipeline::consumer_set> consumers;  // by role; own threads and connections
  // --roles scheduler: due scheduled messages through `publisher`; stopped before the producer.
  std::unique_ptr<scheduler::scheduler_loop> scheduler;

  // ---- gateway (gateway/): STOMP sessions, fan-out, presence ----
  // Where chat.messages ends, for recoveries (SUBSCRIBE with since-id); outlives the gateway.
  std::unique_ptr<kafka_log_positions> log_positions;
  std::unique_ptr<gateway::gateway> stomp_gateway;  // null unless --roles has gateway

  // ---- tokens (tokens/, token_adapters/): revoked access tokens and who holds live ones ----
  tokens::revocation_cache revocations;
  tokens::live_tokens live_tokens;
  std::unique_ptr<token_adapters::revocation_feed> revocation_feed;  // stopped before the pool

  // ---- REST (api/) ----
  std::unique_ptr<api::rest_api> rest;  // the docs/rest.md routes; uses pool and kafka_log
  // Removes old unreferenced uploads (docs/rest.md "Files"), on every node.
  std::shared_ptr<api::file_sweeper> file_sweeper;

  explicit impl(config c) : cfg(std::move(c)), ioc(cfg.io_threads) {}
  // The health thread runs checks that read the consumers, the gateway and the pool. Members
  // are destroyed in reverse order, `health` after those it reads, so it is stopped first:
  // on every exit path, including an early `return 1` (a port in use) while it runs.
  ~impl() {
    if (health) health->stop();
  }
  impl(const impl&) = delete;
  impl& operator=(const impl&) = delete;

  bool migrate(clock::time_point deadline) {
    return retry_until(deadline, "postgres", [&](std::string& error) {
      try {
        const auto result = store::apply_migrations(cfg.database_url, 2);
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
    for (const auto name : {proto::topics::messages, proto::topics::read_receipts, proto::topics::messages_dlt,
                            proto::topics::read_receipts_dlt}) {
      specs.push_back({std::string(name), cfg.kafka_partitions, cfg.kafka_replication_factor});
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

  // Message ids are positions in chat.messages (docs/events.md). If that log starts over (a Kafka
  // whose data was lost, the topic deleted and re-created) while PostgreSQL keeps its rows,
  // new records would get the ids of stored messages: persistence could not store them and
  // live delivery would reuse ids. A node that assigns ids (persist, broadcast) refuses to
  // start then: every partition's end must lie at or past the newest stored offset + 1.
  // Returns 0 when consistent, 1 when the log was reset, -1 when a dependency did not answer
  // before the deadline.
  int check_message_log(clock::time_point deadline) {
    std::vector<std::int64_t> stored;
    if (!retry_until(deadline, "postgres", [&](std::string& error) {
          try {
            stored = store::stored_log_ends(cfg.database_url, 2, cfg.kafka_partitions);
            return true;
          } catch (const std::exception& e) {
            error = e.what();
            return false;
          }
        })) {
      return -1;
    }
    auto settings = kafka_settings(cfg);
    settings.emplace_back("client.id", "chatd-logcheck-" + cfg.node_id);
    kafka::reader reader(settings);
    const std::string topic(proto::topics::messages);
    for (int p = 0; p < cfg.kafka_partitions; ++p) {
      const auto stored_end = stored[static_cast<std::size_t>(p)];
      if (stored_end == 0) continue;  // nothing stored from this partition
      kafka::watermarks w;
      if (!retry_until(deadline, "kafka", [&](std::string& error) {
            const auto ec = reader.query_watermarks(topic, p, w, cfg.dependency_timeout);
            if (ec) error = topic + "[" + std::to_string(p) + "] watermarks: " + ec.message();
            return !ec;
          })) {
        return -1;
      }
      if (w.high < stored_end) {
        log::error("chat.messages starts over where PostgreSQL already has messages: refusing to start",
                   {{"topic", topic},
                    {"partition", p},
                    {"kafka_end_offset", w.high},
                    {"stored_end_offset", stored_end},
                    {"why",
                     "message ids are (partition << 40) | offset; new records would reuse the ids of stored "
                     "messages"},
                    {"fix",
                     "restore Kafka's data, or start from an empty database (docs/operations.md, "
                     "'Kafka lost its log')"}});
        return 1;
      }
    }
    return 0;
  }

  // Graceful shutdown (docs/operations.md), on its own thread; ends by stopping the I/O loop.
  void shutdown() {
    const auto deadline = clock::now() + cfg.shutdown_timeout;
    auto left = [&] { return std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock::now()); };
    http_server->stop();
    // ---- gateway: stop accepting and stop reading frames (no new SENDs) here ----
    if (stomp_gateway) stomp_gateway->stop_accepting();
    // No new scheduled sends; the batch in progress gets its acknowledgements and commits.
    if (scheduler) scheduler->stop();

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
    if (file_sweeper) file_sweeper->stop();
    // Scrapes are served until here: the drain above shows on /metrics.
    metrics_server->stop();
    ioc.stop();
  }

  // The scheduler role (docs/operations.md "Scheduler"); its metrics exist on every node.
  void start_scheduler() {
    constexpr const char* sends_help = "Scheduled message occurrences sent (Kafka acknowledged them)";
    constexpr const char* cancel_help =
        "Scheduled messages the scheduler cancelled when they came due, by reason (not_member: the author had "
        "left the room; blocked: a direct room of a blocked pair)";
    scheduler::scheduler_counters counters;
    counters.sent = &metrics_registry.get_counter("chat_scheduled_sends_total", sends_help);
    counters.late = &metrics_registry.get_counter(
        "chat_scheduled_late_sends_total",
        "Scheduled message occurrences sent late, marked scheduledFor (every scheduler node was down when due)");
    counters.skipped = &metrics_registry.get_counter(
        "chat_scheduled_skipped_occurrences_total",
        "Older missed occurrences of repeating scheduled messages that were not sent (only the newest is sent late)");
    counters.cancelled_not_member =
        &metrics_registry.get_counter("chat_scheduled_cancellations_total", cancel_help, {{"reason", "not_member"}});
    counters.cancelled_blocked =
        &metrics_registry.get_counter("chat_scheduled_cancellations_total", cancel_help, {{"reason", "blocked"}});
    counters.failed = &metrics_registry.get_counter(
        "chat_scheduled_send_failures_total",
        "Scheduled message occurrences Kafka did not acknowledge (sent again at a later tick)");
    if (!cfg.roles.scheduler) return;
    scheduler::scheduler_options options;
    options.tick = cfg.scheduler_tick;
    options.ack_timeout = cfg.send_timeout + std::chrono::seconds(5);
    options.late_after = scheduler::late_after(cfg.scheduler_tick);
    scheduler = std::make_unique<scheduler::scheduler_loop>(cfg.database_url, cfg.dependency_timeout, *publisher,
                                                            options, counters);
    scheduler->start();
  }

  void add_routes() {
    routes.add(http::verb::get, "/healthz", [](const http::request&, const http::path_params&, http::responder r) {
      r(http::json_response(http::status::ok, R"({"status":"UP"})"));
    });
    // Not on the public port: the metrics listener's only route.
    metrics_routes.add(http::verb::get, "/metrics",
                       [this](const http::request& req, const http::path_params&, http::responder r) {
                         if (!cfg.metrics_token.empty() &&
                             !bearer_matches(req[http::bhttp::field::authorization], cfg.metrics_token)) {
                           auto res = http::error_response(http::status::unauthorized, "unauthorized",
                                                           "/metrics needs Authorization: Bearer <--metrics-token>");
                           res.set(http::bhttp::field::www_authenticate, "Bearer");
                           r(std::move(res));
                           return;
                         }
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
  const std::uint64_t max_fds = raise_open_files_limit();
  s.metrics.max_fds.set(static_cast<double>(max_fds));
  s.metrics_registry.on_collect([&s] { s.metrics.open_fds.set(count_open_fds()); });
  if (cfg.jwt_secret.empty()) {
    s.cfg.jwt_secret = random_hex(32);
    log::warn("--dev: using a random JWT secret; tokens die with this process");
  }

  const auto deadline = clock::now() + cfg.startup_timeout;
  if (!cfg.skip_migrations && !s.migrate(deadline)) return 1;
  if (cfg.kafka_create_topics && !s.ensure_topics(deadline)) return 1;
  // The preview role names messages by id too (its events' targetId).
  if ((cfg.roles.persist || cfg.roles.broadcast || cfg.roles.preview) && s.check_message_log(deadline) != 0) return 1;

  s.pool = std::make_unique<store::db_pool>(
      cfg.database_url, redis::parse_url(cfg.redis_url).value_or(redis::endpoint{}), cfg.db_pool_size,
      static_cast<std::size_t>(cfg.db_queue_limit), cfg.dependency_timeout);
  s.pool->start();
  s.health = std::make_unique<health_monitor>(cfg);
  s.health->check_now();
  s.health->start();

  s.admission = std::make_unique<admission_gate>(admission_limits{static_cast<std::size_t>(cfg.max_inflight_sends),
                                                                  cfg.max_inflight_bytes, cfg.admission_target_delay});
  struct admission_seen {
    std::mutex mutex;
    std::uint64_t waited = 0;
    std::uint64_t refused = 0;
  };
  s.metrics_registry.on_collect([&s, seen = std::make_shared<admission_seen>()] {
    const auto a = s.admission->stats();
    s.metrics.admission_inflight.set(static_cast<double>(a.records));
    s.metrics.admission_inflight_bytes.set(static_cast<double>(a.bytes));
    s.metrics.admission_waiting.set(static_cast<double>(a.waiting));
    s.metrics.admission_rate.set(a.rate);
    std::lock_guard lock(seen->mutex);
    if (a.waited > seen->waited) s.metrics.admission_waits.inc(a.waited - seen->waited);
    if (a.refused > seen->refused) s.metrics.admission_refused.inc(a.refused - seen->refused);
    seen->waited = a.waited;
    seen->refused = a.refused;
  });
  {
    gateway::redis_message_keys_options options;
    options.ttl = std::min<std::chrono::seconds>(cfg.dedup_ttl, std::chrono::seconds(600));
    s.keys = std::make_shared<gateway::redis_message_keys>(
        redis::parse_url(cfg.redis_url).value_or(redis::endpoint{}), cfg.dependency_timeout, options,
        gateway::message_key_counters{&s.metrics.key_claims_first, &s.metrics.key_claims_retry,
                                      &s.metrics.key_claims_unavailable});
  }
  s.kafka_log = std::make_unique<kafka_message_log>(cfg);
  s.publisher = std::make_unique<recording_message_log>(*s.kafka_log, s.recent);
  s.add_routes();

  // ---- pipeline: start consumers here ----
  try {
    pipeline::consumer_observers observers;
    observers.on_dead_letter = [&s](const std::string& dlt_topic) { s.metrics.dlt_records(dlt_topic).inc(); };
    observers.batch_observer = [&s](const std::string& group) {
      // The series is looked up once here: observe() itself takes no lock.
      metrics::histogram& h = s.metrics.consume_duration(group);
      return [&h](std::chrono::nanoseconds batch_time, std::size_t) {
        h.observe(std::chrono::duration<double>(batch_time).count());
      };
    };
    observers.broadcast_consumed = [&h = s.metrics.stage_broadcast_consumed](double seconds) { h.observe(seconds); };
    observers.redis_published = [&h = s.metrics.stage_redis_published](double seconds) { h.observe(seconds); };
    s.consumers = std::make_unique<pipeline::consumer_set>(cfg, std::move(observers), s.publisher.get());
    // Every group's series exist from the start (a scrape before any traffic shows 0s).
    for (const auto& loop : s.consumers->loops()) {
      const std::string group(loop->group());
      s.metrics.consumed(group);
      s.metrics.consume_duration(group);
      s.metrics.consumer_failed_attempts(group);
    }
    // The dead-letter counters too: an alert on increase() then sees the first dead letter.
    if (!s.consumers->loops().empty()) {
      s.metrics.dlt_records(std::string(proto::topics::messages_dlt));
      s.metrics.dlt_records(std::string(proto::topics::read_receipts_dlt));
    }
    // chat_messages_consumed_total, chat_consumer_failed_attempts_total, chat_consumer_blocked
    // and chat_consumer_lag, refreshed on every scrape from the loops' own counters.
    struct seen_counts {
      std::uint64_t records = 0;
      std::uint64_t failed_attempts = 0;
    };
    // Two scrapes may render at once (one per I/O thread): the deltas are taken under a lock.
    struct collector_state {
      std::mutex mutex;
      std::map<std::string, seen_counts> seen;
    };
    s.metrics_registry.on_collect([&s, state = std::make_shared<collector_state>()] {
      std::lock_guard lock(state->mutex);
      auto* seen = &state->seen;
      for (const auto& loop : s.consumers->loops()) {
        const std::string group(loop->group());
        const auto& stats = loop->stats();
        auto& before = (*seen)[group];
        const std::uint64_t done = stats.records.load(std::memory_order_relaxed);
        if (done > before.records) s.metrics.consumed(group).inc(done - before.records);
        before.records = done;
        const std::uint64_t failed = stats.failed_attempts.load(std::memory_order_relaxed);
        if (failed > before.failed_attempts)
          s.metrics.consumer_failed_attempts(group).inc(failed - before.failed_attempts);
        before.failed_attempts = failed;
        s.metrics.consumer_blocked(group).set(stats.blocked.load(std::memory_order_relaxed) ? 1 : 0);
        std::int64_t lag = 0;
        for (const auto& [partition, behind] : loop->lag()) lag += std::max<std::int64_t>(0, behind);
        s.metrics.consumer_lag(group).set(static_cast<double>(lag));
      }
    });
  } catch (const std::exception& e) {
    log::error("cannot create Kafka consumers", {{"error", e.what()}});
    return 1;
  }
  // chat_read_events_total{outcome}: the read-receipts consumer's live read events (best effort).
  if (const auto* reads = s.consumers->read_events()) {
    auto& published =
        s.metrics_registry.get_counter("chat_read_events_total", read_events_help, {{"outcome", "published"}});
    auto& lost = s.metrics_registry.get_counter("chat_read_events_total", read_events_help, {{"outcome", "lost"}});
    s.metrics_registry.on_collect(
        [reads, &published, &lost, state = std::make_shared<std::pair<std::mutex, std::array<std::uint64_t, 2>>>()] {
          std::lock_guard lock(state->first);
          auto& seen = state->second;
          const std::uint64_t now_published = reads->published.load(std::memory_order_relaxed);
          const std::uint64_t now_lost = reads->lost.load(std::memory_order_relaxed);
          if (now_published > seen[0]) published.inc(now_published - seen[0]);
          if (now_lost > seen[1]) lost.inc(now_lost - seen[1]);
          seen = {now_published, now_lost};
        });
  }
  if (const auto* previews = s.consumers->previews()) collect_previews(s.metrics_registry, *previews);
  s.consumers->start();
  // Ready only once every consumer of this node has joined its group (a first assignment,
  // even an empty one): before that, messages are accepted but not yet stored or delivered
  // by this node. Later rebalances do not make the node unready.
  if (!s.consumers->loops().empty())
    s.health->add_check("consumers", [&s]() {
      component_status st;
      std::string waiting;
      for (const auto& loop : s.consumers->loops()) {
        if (loop->stats().joined.load(std::memory_order_acquire)) continue;
        waiting += (waiting.empty() ? "" : ", ") + std::string(loop->group());
      }
      st.up = waiting.empty();
      if (!st.up) st.error = "waiting for the first partition assignment of " + waiting;
      return st;
    });

  // ---- REST: register routes on s.routes here ----
  s.rest = std::make_unique<api::rest_api>(s.cfg, *s.pool, *s.publisher);
  s.rest->use_recent_messages(s.recent);
  s.rest->use_message_keys(s.keys);
  s.rest->use_admission(*s.admission);  // REST publishes share the STOMP SENDs' gate
  s.rest->on_room_created([&s] { s.metrics.rooms_created.inc(); });
  s.rest->on_login_locked([&s] { s.metrics.logins_locked.inc(); });
  s.rest->on_auth_rate_limited([&s] { s.metrics.auth_rate_limited.inc(); });
  s.rest->on_password_shed([&s] { s.metrics.password_shed.inc(); });
  s.rest->on_password_verified(
      [&s](bool known) { (known ? s.metrics.logins_verified_known : s.metrics.logins_verified_unknown).inc(); });
  s.metrics_registry.on_collect(
      [&s] { s.metrics.password_queue_depth.set(static_cast<double>(s.rest->password_queue_depth())); });
  s.rest->use_revocations(s.revocations, s.live_tokens);
  s.rest->on_token_revoked([&s](std::string_view reason) { s.metrics.token_revocations(std::string(reason)).inc(); });
  s.rest->on_refresh([&s](std::string_view outcome) { s.metrics.token_refreshes(std::string(outcome)).inc(); });
  s.rest->on_revoked_disconnects([&s](std::size_t n) { s.metrics.token_revoked_disconnects.inc(n); });
  s.rest->register_routes(s.routes);
  {
    token_adapters::revocation_feed_options options;
    options.sync_interval = cfg.revocation_sync;
    options.jwt_ttl = cfg.jwt_ttl;
    options.redis_timeout = cfg.dependency_timeout;
    token_adapters::revocation_feed_observers observers;
    observers.disconnected = [&s](std::size_t n) { s.metrics.token_revoked_disconnects.inc(n); };
    observers.live = [&s](bool live) { s.metrics.token_revocations_live.set(live ? 1 : 0); };
    s.revocation_feed = std::make_unique<token_adapters::revocation_feed>(
        redis::parse_url(cfg.redis_url).value_or(redis::endpoint{}), options, s.revocations, s.live_tokens, *s.pool,
        std::move(observers));
    s.revocation_feed->start();
    s.metrics_registry.on_collect(
        [&s] { s.metrics.token_revocations_cached.set(static_cast<double>(s.revocations.size())); });
  }
  s.start_scheduler();
  s.file_sweeper =
      std::make_shared<api::file_sweeper>(s.ioc.get_executor(), *s.pool, cfg.file_cleanup_interval, cfg.file_retention);
  s.file_sweeper->start();

  // ---- gateway: start STOMP listeners here; set `ws_upgrade` for /ws ----
  http::upgrade_handler ws_upgrade = nullptr;
  if (cfg.roles.gateway) {
    s.log_positions = std::make_unique<kafka_log_positions>(cfg);
    s.stomp_gateway = gateway::make_gateway(s.ioc, cfg, *s.pool, *s.publisher, *s.admission, s.recent, &s.metrics,
                                            s.log_positions.get(), s.keys.get(), &s.revocations, &s.live_tokens);
    try {
      s.stomp_gateway->start();
    } catch (const std::exception& e) {
      log::error("cannot listen", {{"address", cfg.stomp_host}, {"port", cfg.stomp_port}, {"error", e.what()}});
      return 1;
    }
    ws_upgrade = s.stomp_gateway->ws_upgrade_handler();
    // GET /api/rooms/stream: the gateway's room feed as Server-Sent Events.
    s.rest->use_room_stream([&s, settings = gateway::room_stream_settings{cfg.sse_heartbeat, &s.live_tokens}](
                                const tokens::token_ref& token, std::string_view last_event_id,
                                const http::stream_opener& open, const http::responder& respond) {
      gateway::open_room_stream(s.stomp_gateway->feed(), s.ioc.get_executor(), settings, &s.metrics, token,
                                last_event_id, open, respond);
    });
    s.metrics_registry.on_collect([&s, state = std::make_shared<std::pair<std::mutex, std::uint64_t>>()] {
      std::lock_guard lock(state->first);
      const auto evicted = s.stomp_gateway->evicted_handshakes();
      if (evicted > state->second) s.metrics.stomp_handshakes_evicted.inc(evicted - state->second);
      state->second = evicted;
      s.metrics.stomp_pending_handshakes.set(static_cast<double>(s.stomp_gateway->pending_handshakes()));
    });
  }

  const auto http_ep = net::ip::tcp::endpoint(net::ip::make_address(cfg.http_host), cfg.http_port);
  http::server_limits http_limits;
  http_limits.request_timeout = cfg.http_request_timeout;
  http_limits.max_pending_handshakes = static_cast<std::size_t>(cfg.max_http_handshakes);
  http_limits.max_stream_buffer = cfg.sse_max_buffer;
  http_limits.stream_stall_timeout = cfg.write_stall_timeout;
  s.http_server = std::make_shared<http::server>(s.ioc, http_ep, s.routes, http_limits, ws_upgrade);
  // ---- exposure: CORS, RED metrics per route pattern, the metrics listener, dropped log lines ----
  s.routes.set_cors(http::cors_policy(cfg.cors_allow_origins));
  s.http_red = std::make_unique<metrics::http_red>(s.metrics_registry, http::unmatched_route);
  for (const auto pattern : s.routes.patterns()) s.http_red->add_route(pattern);
  if (ws_upgrade) s.http_red->add_route(http::websocket_route);
  s.http_server->on_exchange([&red = *s.http_red](const http::exchange& x) {
    red.observe(x.route, x.status, std::chrono::duration<double>(x.duration).count());
  });
  http::server_limits metrics_limits;
  metrics_limits.request_timeout = cfg.http_request_timeout;
  metrics_limits.max_pending_handshakes = 64;  // a scraper or two
  s.metrics_server = std::make_shared<http::server>(
      s.ioc, net::ip::tcp::endpoint(net::ip::make_address(cfg.metrics_host), cfg.metrics_port), s.metrics_routes,
      metrics_limits, nullptr);
  auto& log_dropped = s.metrics_registry.get_counter(
      "chat_log_dropped_total", "Log lines dropped because the asynchronous log queue was full (stderr too slow)");
  s.metrics_registry.on_collect([&log_dropped, state = std::make_shared<std::pair<std::mutex, std::uint64_t>>()] {
    std::lock_guard lock(state->first);
    const auto dropped = log::dropped_lines();
    if (dropped > state->second) log_dropped.inc(dropped - state->second);
    state->second = dropped;
  });
  s.metrics_registry.on_collect([&s, state = std::make_shared<std::pair<std::mutex, std::uint64_t>>()] {
    std::lock_guard lock(state->first);
    const auto evicted = s.http_server->evicted_handshakes();
    if (evicted > state->second) s.metrics.http_handshakes_evicted.inc(evicted - state->second);
    state->second = evicted;
    s.metrics.http_pending_handshakes.set(static_cast<double>(s.http_server->pending_handshakes()));
  });
  try {
    s.http_server->start();
  } catch (const std::exception& e) {
    log::error("cannot listen", {{"address", cfg.http_host}, {"port", cfg.http_port}, {"error", e.what()}});
    return 1;
  }
  try {
    s.metrics_server->start();
  } catch (const std::exception& e) {
    log::error("cannot listen", {{"address", cfg.metrics_host}, {"port", cfg.metrics_port}, {"error", e.what()}});
    return 1;
  }
  const std::uint16_t http_port = s.http_server->local_endpoint().port();
  const std::uint16_t stomp_port = s.stomp_gateway ? s.stomp_gateway->stomp_port() : 0;
  const std::uint16_t metrics_port = s.metrics_server->local_endpoint().port();
  log::info("listening", {{"http", cfg.http_host + ":" + std::to_string(http_port)},
                          {"http_port", http_port},
                          {"stomp_port", stomp_port},
                          {"metrics", cfg.metrics_host + ":" + std::to_string(metrics_port)},
                          {"metrics_token", !cfg.metrics_token.empty()},
                          {"cors_origins", static_cast<std::int64_t>(cfg.cors_allow_origins.size())}});
  if (!cfg.ports_file.empty() && !write_ports_file(cfg.ports_file, http_port, stomp_port, metrics_port)) return 1;

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
  s.rest->stop();                                    // its last steps go to the pool
  if (s.revocation_feed) s.revocation_feed->stop();  // waits for the pool at most briefly
  s.pool->stop();
  log::info("chatd stopped");
  return 0;
}

}  // namespace chat::chatd
