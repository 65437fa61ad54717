#include "config/config.hpp"

#include "redis/redis_client.hpp"
#include "version.hpp"

#include <CLI/CLI.hpp>

#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>
#include <unistd.h>

namespace chat::chatd {
namespace {

// Parses "30s", "500ms", "2m", "24h", "30d" or a bare number of `unit`s.
bool parse_duration_ms(const std::string& text, std::int64_t bare_unit_ms, std::int64_t& out_ms) {
  if (text.empty()) return false;
  std::size_t pos = 0;
  while (pos < text.size() && std::isdigit(static_cast<unsigned char>(text[pos])) != 0) ++pos;
  if (pos == 0 || pos > 12) return false;
  const std::int64_t n = std::stoll(text.substr(0, pos));
  const std::string unit = text.substr(pos);
  std::int64_t mult;
  if (unit.empty()) {
    mult = bare_unit_ms;
  } else if (unit == "ms") {
    mult = 1;
  } else if (unit == "s") {
    mult = 1000;
  } else if (unit == "m") {
    mult = 60'000;
  } else if (unit == "h") {
    mult = 3'600'000;
  } else if (unit == "d") {
    mult = 86'400'000;
  } else {
    return false;
  }
  out_ms = n * mult;
  return true;
}

// A CLI11 validator for durations, so a bad value names its flag.
CLI::Validator duration_validator() {
  return CLI::Validator(
      [](std::string& s) -> std::string {
        std::int64_t ms;
        if (!parse_duration_ms(s, 1000, ms)) return "not a duration (examples: 500ms, 30s, 2m, 24h): " + s;
        return {};
      },
      "DURATION");
}

std::string default_node_id() {
  char host[256] = {};
  if (gethostname(host, sizeof host - 1) != 0) std::snprintf(host, sizeof host, "chatd");
  return std::string(host) + "-" + std::to_string(getpid());
}

// "https://Chat.Example.com/" -> "https://chat.example.com" (as a browser sends Origin);
// "*" stays "*"; empty when `text` is not an origin (http or https, a host, an optional
// port, no path).
std::string normalize_origin(std::string text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back())) != 0) text.pop_back();
  const auto first = text.find_first_not_of(" \t");
  text.erase(0, first == std::string::npos ? text.size() : first);
  if (text == "*") return text;
  for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  while (!text.empty() && text.back() == '/') text.pop_back();
  std::string_view host(text);
  if (host.starts_with("https://")) {
    host.remove_prefix(8);
  } else if (host.starts_with("http://")) {
    host.remove_prefix(7);
  } else {
    return {};
  }
  if (host.empty()) return {};
  for (char c : host) {
    const bool ok =
        std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '.' || c == '-' || c == ':' || c == '[' || c == ']';
    if (!ok) return {};
  }
  return text;
}

bool parse_roles(const std::string& text, role_set& out, std::string& bad) {
  out = role_set{false, false, false, false, false, false};
  std::stringstream ss(text);
  std::string item;
  bool any = false;
  while (std::getline(ss, item, ',')) {
    if (item == "gateway") {
      out.gateway = true;
    } else if (item == "persist") {
      out.persist = true;
    } else if (item == "broadcast") {
      out.broadcast = true;
    } else if (item == "receipts") {
      out.receipts = true;
    } else if (item == "scheduler") {
      out.scheduler = true;
    } else if (item == "preview") {
      out.preview = true;
    } else if (item == "all") {
      out = role_set{};
    } else {
      bad = item;
      return false;
    }
    any = true;
  }
  if (!any) bad = "(empty)";
  return any;
}

}  // namespace

std::vector<std::pair<std::string, std::string>> kafka_settings(const config& cfg) {
  std::vector<std::pair<std::string, std::string>> out{
      {"bootstrap.servers", cfg.kafka_brokers},
      // librdkafka backs off up to 10 s between reconnects by default: after a broker
      // outage, the SENDs held for it would wait that much longer than the outage.
      {"reconnect.backoff.max.ms", "1000"},
  };
  for (const auto& kv : cfg.kafka_properties) {
    const auto eq = kv.find('=');
    out.emplace_back(kv.substr(0, eq), kv.substr(eq + 1));
  }
  return out;
}

std::vector<std::pair<std::string, std::string>> kafka_consumer_settings(const config& cfg) {
  const auto session_ms = cfg.kafka_session_timeout.count();
  std::vector<std::pair<std::string, std::string>> out{
      {"bootstrap.servers", cfg.kafka_brokers},
      {"session.timeout.ms", std::to_string(session_ms)},
      {"heartbeat.interval.ms", std::to_string(std::max<std::int64_t>(100, session_ms / 6))},
  };
  auto rest = kafka_settings(cfg);
  out.insert(out.end(), rest.begin() + 1, rest.end());  // all but bootstrap.servers
  return out;
}

parse_outcome parse_config(int argc, const char* const* argv, parse_mode mode) {
  config cfg;
  CLI::App app{
      "chatd — STOMP chat server: gateway (WebSocket + TCP STOMP, REST), Kafka pipeline "
      "(persistence, broadcast, read receipts), presence.\n"
      "Every setting is also read from the environment as CHATD_<NAME> (e.g. CHATD_HTTP_PORT) "
      "and from --config FILE (TOML/INI: name = value; a flag wins over the file, the file over the environment).",
      "chatd"};
  app.get_formatter()->column_width(44);
  app.set_version_flag("--version", std::string("chatd ") + std::string(chatd_version));
  // Precedence (CLI11 2.1): a flag, then a value in the --config file, then the CHATD_* variable.
  app.allow_config_extras(CLI::config_extras_mode::error);  // a misspelt key in the file stops the start
  app.set_config("--config", "",
                 "Read settings from this TOML/INI file (flags win over it, and it over CHATD_* variables)");

  auto env = [](const char* name) { return std::string("CHATD_") + name; };
  std::string jwt_ttl = "1h", refresh_ttl = "30d", revocation_sync = "2s", health_interval = "1s", dep_timeout = "2s",
              shutdown_timeout = "30s", startup_timeout = "60s";
  std::string roles_text = "gateway,persist,broadcast,receipts,scheduler,preview";
  std::string jwt_secret_file;

  app.add_option("--http-host", cfg.http_host, "Address for HTTP, REST and WebSocket")
      ->envname(env("HTTP_HOST"))
      ->capture_default_str();
  app.add_option("--http-port", cfg.http_port,
                 "Port for HTTP, REST and WebSocket (/ws); 0 picks a free one (see --ports-file)")
      ->envname(env("HTTP_PORT"))
      ->check(CLI::Range(0, 65535))
      ->capture_default_str();
  app.add_option("--stomp-host", cfg.stomp_host, "Address for plain-TCP STOMP")
      ->envname(env("STOMP_HOST"))
      ->capture_default_str();
  app.add_option("--stomp-port", cfg.stomp_port, "Port for plain-TCP STOMP; 0 picks a free one (see --ports-file)")
      ->envname(env("STOMP_PORT"))
      ->check(CLI::Range(0, 65535))
      ->capture_default_str();
  app.add_option(
         "--ports-file", cfg.ports_file,
         "Once listening, write the bound ports here as JSON {\"http\":N,\"stomp\":N,\"metrics\":N} (written to "
         "a temporary name, then renamed)")
      ->envname(env("PORTS_FILE"));
  app.add_option("--io-threads", cfg.io_threads, "Network I/O threads")
      ->envname(env("IO_THREADS"))
      ->check(CLI::Range(1, 256))
      ->capture_default_str();
  // exposure: the metrics listener and CORS
  app.add_option("--metrics-host", cfg.metrics_host,
                 "Address of the /metrics listener (loopback by default; keep it off the public network)")
      ->envname(env("METRICS_HOST"))
      ->capture_default_str();
  app.add_option("--metrics-port", cfg.metrics_port,
                 "Port of the /metrics listener (/metrics is not served on --http-port); 0 picks a free one (see "
                 "--ports-file)")
      ->envname(env("METRICS_PORT"))
      ->check(CLI::Range(0, 65535))
      ->capture_default_str();
  app.add_option("--metrics-token", cfg.metrics_token,
                 "When set, /metrics answers only requests with Authorization: Bearer <token> (prefer the env var: "
                 "flags show in ps)")
      ->envname(env("METRICS_TOKEN"));
  app.add_option("--cors-allow-origin", cfg.cors_allow_origins,
                 "Origin whose browser scripts may call the HTTP API, e.g. https://chat.example.com (repeatable or a "
                 "comma list; * for any; default none: no CORS headers)")
      ->envname(env("CORS_ALLOW_ORIGIN"))
      ->delimiter(',')
      ->transform(CLI::Validator(
          [](std::string& origin) -> std::string {
            origin = normalize_origin(origin);
            return origin.empty() ? "expected * or an origin such as https://chat.example.com (no path)"
                                  : std::string{};
          },
          "ORIGIN"));

  app.add_option("--database-url", cfg.database_url,
                 "PostgreSQL URL, e.g. postgresql://chat:pw@127.0.0.1:5432/chat (required)")
      ->envname(env("DATABASE_URL"));
  app.add_option("--db-pool-size", cfg.db_pool_size,
                 "PostgreSQL connections and worker threads (0 = twice the number of cores)")
      ->envname(env("DB_POOL_SIZE"))
      ->check(CLI::Range(0, 256))
      ->capture_default_str();
  app.add_option("--db-queue-limit", cfg.db_queue_limit, "Queued database jobs before requests get 503")
      ->envname(env("DB_QUEUE_LIMIT"))
      ->check(CLI::Range(1, 1000000))
      ->capture_default_str();
  app.add_option("--redis-url", cfg.redis_url, "Redis URL: redis://[:password@]host:port[/db]")
      ->envname(env("REDIS_URL"))
      ->capture_default_str();
  app.add_option("--kafka-brokers", cfg.kafka_brokers, "Kafka bootstrap servers (host:port,...)")
      ->envname(env("KAFKA_BROKERS"))
      ->capture_default_str();
  app.add_option("--kafka-property", cfg.kafka_properties, "Extra librdkafka setting key=value (repeatable; SASL/TLS)")
      ->envname(env("KAFKA_PROPERTY"))
      ->check(CLI::Validator(
          [](std::string& s) -> std::string {
            const auto eq = s.find('=');
            return eq == std::string::npos || eq == 0 ? "expected key=value: " + s : std::string{};
          },
          "KEY=VALUE"));
  app.add_option(
         "--kafka-partitions", cfg.kafka_partitions,
         "Partitions of chat.messages and the other topics (fixed for a deployment: message ids derive from it)")
      ->envname(env("KAFKA_PARTITIONS"))
      ->check(CLI::Range(1, 1024))
      ->capture_default_str();
  app.add_option("--kafka-replication-factor", cfg.kafka_replication_factor, "Replication factor of created topics")
      ->envname(env("KAFKA_REPLICATION_FACTOR"))
      ->check(CLI::Range(1, 16))
      ->capture_default_str();
  app.add_option("--kafka-create-topics", cfg.kafka_create_topics, "Create missing topics at start")
      ->envname(env("KAFKA_CREATE_TOPICS"))
      ->capture_default_str();

  std::string session_timeout = "10s";
  app.add_option("--kafka-session-timeout", session_timeout,
                 "Consumer group session timeout (a dead node's partitions move after it)")
      ->envname(env("KAFKA_SESSION_TIMEOUT"))
      ->check(duration_validator())
      ->capture_default_str();
  app.add_option("--jwt-secret", cfg.jwt_secret,
                 "HS256 secret, at least 32 bytes (prefer the env var or --jwt-secret-file: flags show in ps)")
      ->envname(env("JWT_SECRET"));
  app.add_option("--jwt-secret-file", jwt_secret_file, "Read the JWT secret from this file")
      ->envname(env("JWT_SECRET_FILE"))
      ->check(CLI::ExistingFile);
  app.add_option("--jwt-ttl", jwt_ttl, "Lifetime of issued access tokens (at least 5s)")
      ->envname(env("JWT_TTL"))
      ->check(duration_validator())
      ->capture_default_str();
  app.add_option("--refresh-ttl", refresh_ttl, "Lifetime of a refresh token (each refresh issues a new one)")
      ->envname(env("REFRESH_TTL"))
      ->check(duration_validator())
      ->capture_default_str();
  app.add_option("--revocation-sync", revocation_sync,
                 "How often each node reloads every token revocation and checks its live connections against "
                 "them (the safety net behind the Redis channel; the PostgreSQL poll while Redis is down)")
      ->envname(env("REVOCATION_SYNC"))
      ->check(duration_validator())
      ->capture_default_str();
  app.add_flag("--dev", cfg.dev, "Development mode: a random JWT secret when none is configured")->envname(env("DEV"));
  app.add_option("--node-id", cfg.node_id, "Name of this node in logs and Kafka headers (default host-pid)")
      ->envname(env("NODE_ID"));

  std::string heartbeat = "10000,10000", write_stall = "20s", handshake = "10s", idle = "10m", typing = "1s",
              presence_ttl = "60s", presence_refresh = "20s", send_timeout = "30s", batch_wait = "10ms",
              retry_backoff = "1s", dedup_ttl = "1h", http_request_timeout = "30s", login_failure_window = "5m";
  app.add_option("--max-frame-bytes", cfg.max_frame_bytes, "Largest STOMP frame accepted")
      ->envname(env("MAX_FRAME_BYTES"))
      ->check(CLI::Range(1024, 16 * 1024 * 1024))
      ->capture_default_str();
  app.add_option("--max-content-chars", cfg.max_content_chars, "Longest message content, in characters")
      ->envname(env("MAX_CONTENT_CHARS"))
      ->check(CLI::Range(1, 1000000))
      ->capture_default_str();
  app.add_option("--max-headers", cfg.max_headers, "Most headers in one STOMP frame")
      ->envname(env("MAX_HEADERS"))
      ->check(CLI::Range(1, 1000))
      ->capture_default_str();
  app.add_option("--heartbeat", heartbeat, "STOMP heart-beat the server offers: send-ms,receive-ms")
      ->envname(env("HEARTBEAT"))
      ->capture_default_str();
  app.add_option("--rate-limit", cfg.rate_limit_per_s, "SENDs per second per user, sustained")
      ->envname(env("RATE_LIMIT"))
      ->check(CLI::Range(0.1, 1e6))
      ->capture_default_str();
  app.add_option("--rate-burst", cfg.rate_limit_burst, "SEND burst per user")
      ->envname(env("RATE_BURST"))
      ->check(CLI::Range(1.0, 1e6))
      ->capture_default_str();
  app.add_option("--rate-disconnect-factor", cfg.rate_limit_disconnect_factor,
                 "A user sending this many times the limit is disconnected")
      ->envname(env("RATE_DISCONNECT_FACTOR"))
      ->check(CLI::Range(1.0, 1e6))
      ->capture_default_str();
  app.add_option("--max-outbound-bytes", cfg.max_outbound_bytes,
                 "Per-session outbound buffer; past it the slow consumer is disconnected")
      ->envname(env("MAX_OUTBOUND_BYTES"))
      ->check(CLI::Range(4096, 1 << 30))
      ->capture_default_str();
  app.add_option("--write-stall-timeout", write_stall, "A write stalled this long disconnects the session")
      ->envname(env("WRITE_STALL_TIMEOUT"))
      ->check(duration_validator())
      ->capture_default_str();
  app.add_option("--max-sessions-per-user", cfg.max_sessions_per_user, "Open STOMP sessions per user on this node")
      ->envname(env("MAX_SESSIONS_PER_USER"))
      ->check(CLI::Range(1, 100000))
      ->capture_default_str();
  app.add_option("--max-subscriptions", cfg.max_subscriptions, "Subscriptions per session")
      ->envname(env("MAX_SUBSCRIPTIONS"))
      ->check(CLI::Range(1, 100000))
      ->capture_default_str();
  app.add_option("--recovery-limit", cfg.recovery_limit,
                 "Most missed room events a SUBSCRIBE with since-id replays (the newest; more: truncated)")
      ->envname(env("RECOVERY_LIMIT"))
      ->check(CLI::Range(1, 100000))
      ->capture_default_str();
  app.add_option("--recovery-memory", cfg.recovery_memory,
                 "Newest room events each subscribed room's channel remembers, so that a SUBSCRIBE with since-id "
                 "inside them is answered from memory (0: always from the store)")
      ->envname(env("RECOVERY_MEMORY"))
      ->check(CLI::Range(0, 100000))
      ->capture_default_str();
  app.add_option("--handshake-timeout", handshake, "Time from connect to STOMP CONNECT")
      ->envname(env("HANDSHAKE_TIMEOUT"))
      ->check(duration_validator())
      ->capture_default_str();
  app.add_option("--idle-timeout", idle,
                 "A session without client heart-beats that receives nothing this long is closed (0 = never)")
      ->envname(env("IDLE_TIMEOUT"))
      ->check(duration_validator())
      ->capture_default_str();
  app.add_option("--http-request-timeout", http_request_timeout,
                 "An HTTP request (REST or the /ws upgrade) must arrive complete within this, also the first one of a "
                 "new connection")
      ->envname(env("HTTP_REQUEST_TIMEOUT"))
      ->check(duration_validator())
      ->capture_default_str();
  app.add_option("--max-http-handshakes", cfg.max_http_handshakes,
                 "HTTP connections still waiting for their first request; past it the oldest is closed")
      ->envname(env("MAX_HTTP_HANDSHAKES"))
      ->check(CLI::Range(1, 1000000))
      ->capture_default_str();
  app.add_option("--max-stomp-handshakes", cfg.max_stomp_handshakes,
                 "STOMP sessions still waiting for CONNECT, over TCP and WebSocket together (one shared cap); past it "
                 "the oldest gets ERROR and is closed")
      ->envname(env("MAX_STOMP_HANDSHAKES"))
      ->check(CLI::Range(1, 1000000))
      ->capture_default_str();
  app.add_option("--typing-interval", typing, "At most one typing notice per user and room per interval")
      ->envname(env("TYPING_INTERVAL"))
      ->check(duration_validator())
      ->capture_default_str();
  app.add_option("--presence-ttl", presence_ttl,
                 "TTL of user:presence:{id}; a crashed node's users go OFFLINE within it")
      ->envname(env("PRESENCE_TTL"))
      ->check(duration_validator())
      ->capture_default_str();
  app.add_option("--presence-refresh", presence_refresh, "How often live sessions refresh their presence key")
      ->envname(env("PRESENCE_REFRESH"))
      ->check(duration_validator())
      ->capture_default_str();
  app.add_option("--send-timeout", send_timeout, "SEND -> Kafka acknowledgement; past it the client gets an ERROR")
      ->envname(env("SEND_TIMEOUT"))
      ->check(duration_validator())
      ->capture_default_str();
  std::string edit_window = "48h";
  app.add_option("--edit-window", edit_window, "How long after sending a message its sender may edit it")
      ->envname(env("EDIT_WINDOW"))
      ->check(duration_validator())
      ->capture_default_str();
  std::string sse_replay = "60s", sse_heartbeat = "15s";
  app.add_option("--sse-replay", sse_replay,
                 "GET /api/rooms/stream: how long events stay replayable for a reconnect with Last-Event-ID")
      ->envname(env("SSE_REPLAY"))
      ->check(duration_validator())
      ->capture_default_str();
  app.add_option("--sse-heartbeat", sse_heartbeat, "GET /api/rooms/stream: a comment line this often")
      ->envname(env("SSE_HEARTBEAT"))
      ->check(duration_validator())
      ->capture_default_str();
  app.add_option("--sse-max-buffer", cfg.sse_max_buffer,
                 "GET /api/rooms/stream: bytes queued for a reader beyond which it is dropped as a slow consumer")
      ->envname(env("SSE_MAX_BUFFER"))
      ->capture_default_str();
  // admission control (docs/stomp.md "Overload")
  std::string admission_timeout = "5s", admission_target_delay = "300ms";
  app.add_option("--max-inflight-sends", cfg.max_inflight_sends,
                 "SENDs handed to Kafka and not yet acknowledged, per node; at the bound senders wait (0 = no bound)")
      ->envname(env("MAX_INFLIGHT_SENDS"))
      ->check(CLI::Range(0, 10000000))
      ->capture_default_str();
  app.add_option("--max-inflight-bytes", cfg.max_inflight_bytes,
                 "Bytes of the SENDs handed to Kafka and not yet acknowledged, per node (0 = no bound)")
      ->envname(env("MAX_INFLIGHT_BYTES"))
      ->capture_default_str();
  app.add_option("--admission-timeout", admission_timeout,
                 "Longest wait of a SEND for an admission slot; then ERROR server overloaded (the session stays)")
      ->envname(env("ADMISSION_TIMEOUT"))
      ->check(duration_validator())
      ->capture_default_str();
  app.add_option("--socket-send-buffer", cfg.socket_send_buffer,
                 "SO_SNDBUF of STOMP connections in bytes (0 = the kernel's autotuning): bounds the kernel memory a "
                 "client that does not read can hold")
      ->envname(env("SOCKET_SEND_BUFFER"))
      ->check(CLI::Range(0, 1 << 30))
      ->capture_default_str();
  app.add_option("--admission-target-delay", admission_target_delay,
                 "Delivery delay (sent -> fan-out) above which the node admits fewer SENDs; 0 = no rate control")
      ->envname(env("ADMISSION_TARGET_DELAY"))
      ->check(duration_validator())
      ->capture_default_str();
  app.add_option("--persist-batch-size", cfg.persist_batch_size, "Most records per PostgreSQL transaction")
      ->envname(env("PERSIST_BATCH_SIZE"))
      ->check(CLI::Range(1, 100000))
      ->capture_default_str();
  app.add_option("--persist-batch-wait", batch_wait, "How long a consumer waits to fill a batch")
      ->envname(env("PERSIST_BATCH_WAIT"))
      ->check(duration_validator())
      ->capture_default_str();
  app.add_option("--consumer-retries", cfg.consumer_retries, "Retries of a failing record before the dead-letter topic")
      ->envname(env("CONSUMER_RETRIES"))
      ->check(CLI::Range(0, 1000))
      ->capture_default_str();
  app.add_option("--consumer-retry-backoff", retry_backoff, "Pause between retries of a failing record")
      ->envname(env("CONSUMER_RETRY_BACKOFF"))
      ->check(duration_validator())
      ->capture_default_str();
  app.add_option("--infra-failure-policy", cfg.infra_failure_policy,
                 "When PostgreSQL/Redis is down: block (retry until back, nothing dead-lettered) or dead-letter (after "
                 "the retries)")
      ->envname(env("INFRA_FAILURE_POLICY"))
      ->check(CLI::IsMember({"block", "dead-letter"}))
      ->capture_default_str();
  app.add_option("--dedup-ttl", dedup_ttl, "How long a messageKey is remembered for live de-duplication")
      ->envname(env("DEDUP_TTL"))
      ->check(duration_validator())
      ->capture_default_str();
  app.add_option("--login-failure-limit", cfg.login_failure_limit,
                 "Failed logins for one email within --login-failure-window before its logins are refused with 429 (0: "
                 "no limit)")
      ->envname(env("LOGIN_FAILURE_LIMIT"))
      ->check(CLI::Range(0, 1000000))
      ->capture_default_str();
  app.add_option("--login-failure-window", login_failure_window,
                 "Window of --login-failure-limit, from the first failure")
      ->envname(env("LOGIN_FAILURE_WINDOW"))
      ->check(duration_validator())
      ->capture_default_str();
  app.add_option("--password-cost", cfg.password_cost, "Argon2id cost: interactive, moderate or minimum (tests only)")
      ->envname(env("PASSWORD_COST"))
      ->check(CLI::IsMember({"interactive", "moderate", "minimum"}))
      ->capture_default_str();
  // unauthenticated work: signup and login
  app.add_option("--password-workers", cfg.password_workers,
                 "Threads that hash passwords for signup and login (0 = 1 on up to two cores, else half the cores)")
      ->envname(env("PASSWORD_WORKERS"))
      ->check(CLI::Range(0, 256))
      ->capture_default_str();
  app.add_option("--password-queue", cfg.password_queue,
                 "Signups and logins waiting for a password worker; past it they get 503 at once")
      ->envname(env("PASSWORD_QUEUE"))
      ->check(CLI::Range(1, 1000000))
      ->capture_default_str();
  app.add_option("--password-cpu-share", cfg.password_cpu_share,
                 "Share of one core each password worker may hash for (it rests in proportion after each "
                 "hash; 1 = no rest)")
      ->envname(env("PASSWORD_CPU_SHARE"))
      ->check(CLI::Range(0.01, 1.0))
      ->capture_default_str();
  app.add_option("--auth-rate-limit", cfg.auth_rate_limit,
                 "Signups and logins per second per client address, sustained (0 = no limit)")
      ->envname(env("AUTH_RATE_LIMIT"))
      ->check(CLI::Range(0.0, 1e6))
      ->capture_default_str();
  app.add_option("--auth-rate-burst", cfg.auth_rate_burst, "Signup and login burst per client address")
      ->envname(env("AUTH_RATE_BURST"))
      ->check(CLI::Range(1.0, 1e6))
      ->capture_default_str();
  app.add_option_function<std::string>(
         "--trusted-proxies",
         [&cfg](const std::string& list) {
           std::string bad;
           cfg.trusted_proxies = parse_ip_networks(list, bad).value_or(std::vector<ip_network>{});
         },
         "Comma list of proxy addresses or CIDR networks whose X-Forwarded-For names the client (default none)")
      ->envname(env("TRUSTED_PROXIES"))
      ->run_callback_for_default()  // listed by genconfig (as "")
      ->check(CLI::Validator(
          [](std::string& list) -> std::string {
            std::string bad;
            return parse_ip_networks(list, bad) ? std::string{} : "not an IP address or CIDR network: '" + bad + "'";
          },
          "ADDRESS[/PREFIX],..."));

  std::string file_retention = "24h", file_cleanup_interval = "10m";
  app.add_option("--max-file-bytes", cfg.max_file_bytes, "Largest upload (POST /api/files); larger ones get 413")
      ->envname(env("MAX_FILE_BYTES"))
      ->check(CLI::Range(std::size_t{1024}, std::size_t{512} * 1024 * 1024))
      ->capture_default_str();
  app.add_option("--file-retention", file_retention, "Uploads no message refers to are removed once they are this old")
      ->envname(env("FILE_RETENTION"))
      ->check(duration_validator())
      ->capture_default_str();
  app.add_option("--file-cleanup-interval", file_cleanup_interval,
                 "How often each node removes old unreferenced uploads")
      ->envname(env("FILE_CLEANUP_INTERVAL"))
      ->check(duration_validator())
      ->capture_default_str();

  std::string scheduler_tick = "1s";
  app.add_option("--scheduler-tick", scheduler_tick,
                 "How often the scheduler role looks for due scheduled messages (docs/operations.md)")
      ->envname(env("SCHEDULER_TICK"))
      ->check(duration_validator())
      ->capture_default_str();

  // link previews (docs/operations.md "Link previews")
  std::string preview_ports = "80,443", preview_allow_hosts, preview_timeout = "5s", preview_cache_ttl = "1h";
  app.add_option("--preview-ports", preview_ports,
                 "Link previews: the only ports a previewed URL (or a redirect) may name, comma list")
      ->envname(env("PREVIEW_PORTS"))
      ->capture_default_str();
  app.add_option("--preview-allow-hosts", preview_allow_hosts,
                 "Link previews: comma list of host[:port] exempt from the address check (loopback, private, "
                 "link-local... are refused otherwise); an entry with a port also admits that port (tests, "
                 "intranets; default none)")
      ->envname(env("PREVIEW_ALLOW_HOSTS"));
  app.add_option("--preview-allow-hosts-only", cfg.preview_allow_hosts_only,
                 "Link previews: fetch only the hosts of --preview-allow-hosts; every other URL is refused before "
                 "any DNS lookup (the test harness runs every node so)")
      ->envname(env("PREVIEW_ALLOW_HOSTS_ONLY"))
      ->capture_default_str();
  app.add_option("--preview-timeout", preview_timeout,
                 "Link previews: the whole fetch of one page (DNS, connect, TLS, redirects, body)")
      ->envname(env("PREVIEW_TIMEOUT"))
      ->check(duration_validator())
      ->capture_default_str();
  app.add_option("--preview-workers", cfg.preview_workers, "Link previews: pages fetched at once per node")
      ->envname(env("PREVIEW_WORKERS"))
      ->check(CLI::Range(1, 256))
      ->capture_default_str();
  app.add_option("--preview-queue", cfg.preview_queue,
                 "Link previews: fetches waiting for a worker; past it a message gets no preview (counted)")
      ->envname(env("PREVIEW_QUEUE"))
      ->check(CLI::Range(1, 1000000))
      ->capture_default_str();
  app.add_option("--preview-cache-entries", cfg.preview_cache_entries,
                 "Link previews: URLs whose result each node remembers (least recently used go first)")
      ->envname(env("PREVIEW_CACHE_ENTRIES"))
      ->check(CLI::Range(0, 10000000))
      ->capture_default_str();
  app.add_option("--preview-cache-ttl", preview_cache_ttl, "Link previews: how long a URL's result is remembered")
      ->envname(env("PREVIEW_CACHE_TTL"))
      ->check(duration_validator())
      ->capture_default_str();

  app.add_option("--roles", roles_text, "Comma list of gateway,persist,broadcast,receipts,scheduler,preview (or all)")
      ->envname(env("ROLES"))
      ->capture_default_str();
  app.add_option("--health-interval", health_interval, "How often dependencies are checked for /readyz")
      ->envname(env("HEALTH_INTERVAL"))
      ->check(duration_validator())
      ->capture_default_str();
  app.add_option("--dependency-timeout", dep_timeout, "Timeout of one dependency check or connect")
      ->envname(env("DEPENDENCY_TIMEOUT"))
      ->check(duration_validator())
      ->capture_default_str();
  app.add_option("--shutdown-timeout", shutdown_timeout, "Longest graceful shutdown")
      ->envname(env("SHUTDOWN_TIMEOUT"))
      ->check(duration_validator())
      ->capture_default_str();
  app.add_option("--startup-timeout", startup_timeout, "How long start-up waits for PostgreSQL and Kafka")
      ->envname(env("STARTUP_TIMEOUT"))
      ->check(duration_validator())
      ->capture_default_str();
  app.add_flag("--migrate", cfg.migrate_only, "Apply database migrations and exit");
  app.add_flag("--skip-migrations", cfg.skip_migrations, "Do not apply migrations at start")
      ->envname(env("SKIP_MIGRATIONS"));

  app.add_option("--log-format", cfg.log_format, "json (one object per line) or text")
      ->envname(env("LOG_FORMAT"))
      ->check(CLI::IsMember({"json", "text"}))
      ->capture_default_str();
  app.add_option("--log-level", cfg.log_level, "debug, info, warn or error")
      ->envname(env("LOG_LEVEL"))
      ->check(CLI::IsMember({"debug", "info", "warn", "error"}))
      ->capture_default_str();

  try {
    app.parse(argc, argv);
    if (mode == parse_mode::generate) {
      parse_outcome out{std::nullopt, 0, {}};
      out.generated =
          "# chatd configuration: every setting with its default (docs/operations.md).\n"
          "# Use with: chatd --config FILE. Flags and CHATD_* environment variables win over this file.\n"
          "# Durations take ms, s, m, h or d suffixes. Secrets belong in files (jwt-secret-file), not here.\n\n";
      // Every setting with its description; those not given (by flags, CHATD_* variables or
      // --config while generating) commented out with their default: the file then pins nothing
      // by accident (a value in the file wins over the environment, see --config).
      const std::string given = app.config_to_str(false, false);
      const std::string body = app.config_to_str(true, true);
      auto key_of = [](std::string_view line) { return line.substr(0, line.find('=')); };
      auto is_given = [&](std::string_view key) {
        std::size_t at = 0;
        while (at < given.size()) {
          auto end = given.find('\n', at);
          if (end == std::string::npos) end = given.size();
          if (key_of(std::string_view(given).substr(at, end - at)) == key) return true;
          at = end + 1;
        }
        return false;
      };
      std::size_t from = 0;
      while (from < body.size()) {
        auto end = body.find('\n', from);
        if (end == std::string::npos) end = body.size();
        const std::string_view line(body.data() + from, end - from);
        const bool setting = !line.empty() && line.front() != '#' && line.find('=') != std::string_view::npos;
        if (setting && !is_given(key_of(line))) out.generated += "# ";
        out.generated.append(line);
        out.generated += '\n';
        from = end + 1;
      }
      return out;
    }
  } catch (const CLI::CallForHelp& e) {
    return {std::nullopt, app.exit(e)};
  } catch (const CLI::CallForAllHelp& e) {
    return {std::nullopt, app.exit(e)};
  } catch (const CLI::CallForVersion& e) {
    return {std::nullopt, app.exit(e)};
  } catch (const CLI::ParseError& e) {
    std::cerr << "chatd: " << e.what() << "\nRun 'chatd --help' for every setting.\n";
    return {std::nullopt, 2};
  }

  auto fail = [](const std::string& msg) {
    std::cerr << "chatd: " << msg << "\n";
    return parse_outcome{std::nullopt, 2};
  };

  std::int64_t ms = 0;
  parse_duration_ms(jwt_ttl, 1000, ms);
  cfg.jwt_ttl = std::chrono::seconds(ms / 1000);
  if (cfg.jwt_ttl.count() < 5) return fail("--jwt-ttl (CHATD_JWT_TTL): must be at least 5s");
  parse_duration_ms(refresh_ttl, 1000, ms);
  cfg.refresh_ttl = std::chrono::seconds(ms / 1000);
  if (cfg.refresh_ttl < cfg.jwt_ttl) {
    return fail("--refresh-ttl (CHATD_REFRESH_TTL): must be at least --jwt-ttl");
  }
  parse_duration_ms(revocation_sync, 1000, ms);
  cfg.revocation_sync = std::chrono::milliseconds(ms);
  if (ms < 100 || ms > 60000) return fail("--revocation-sync (CHATD_REVOCATION_SYNC): must be 100ms to 60s");
  parse_duration_ms(health_interval, 1000, ms);
  cfg.health_interval = std::chrono::milliseconds(ms);
  if (ms < 50) return fail("--health-interval (CHATD_HEALTH_INTERVAL): must be at least 50ms");
  parse_duration_ms(dep_timeout, 1000, ms);
  cfg.dependency_timeout = std::chrono::milliseconds(ms);
  if (ms < 100) return fail("--dependency-timeout (CHATD_DEPENDENCY_TIMEOUT): must be at least 100ms");
  parse_duration_ms(shutdown_timeout, 1000, ms);
  cfg.shutdown_timeout = std::chrono::seconds(std::max<std::int64_t>(1, ms / 1000));
  parse_duration_ms(startup_timeout, 1000, ms);
  cfg.startup_timeout = std::chrono::seconds(std::max<std::int64_t>(1, ms / 1000));

  auto ms_of = [](const std::string& text) {
    std::int64_t v = 0;
    parse_duration_ms(text, 1000, v);
    return std::chrono::milliseconds(v);
  };
  cfg.write_stall_timeout = ms_of(write_stall);
  cfg.kafka_session_timeout = ms_of(session_timeout);
  if (cfg.kafka_session_timeout.count() < 1000) {
    return fail("--kafka-session-timeout (CHATD_KAFKA_SESSION_TIMEOUT): must be at least 1s");
  }
  if (cfg.write_stall_timeout.count() < 100) {
    return fail("--write-stall-timeout (CHATD_WRITE_STALL_TIMEOUT): must be at least 100ms");
  }
  cfg.handshake_timeout = ms_of(handshake);
  if (cfg.handshake_timeout.count() < 100) {
    return fail("--handshake-timeout (CHATD_HANDSHAKE_TIMEOUT): must be at least 100ms");
  }
  cfg.idle_timeout = ms_of(idle);
  if (cfg.idle_timeout.count() != 0 && cfg.idle_timeout.count() < 1000) {
    return fail("--idle-timeout (CHATD_IDLE_TIMEOUT): 0 (never) or at least 1s");
  }
  cfg.http_request_timeout = ms_of(http_request_timeout);
  if (cfg.http_request_timeout.count() < 100) {
    return fail("--http-request-timeout (CHATD_HTTP_REQUEST_TIMEOUT): must be at least 100ms");
  }
  cfg.typing_interval = ms_of(typing);
  cfg.presence_ttl = std::chrono::duration_cast<std::chrono::seconds>(ms_of(presence_ttl));
  cfg.presence_refresh = std::chrono::duration_cast<std::chrono::seconds>(ms_of(presence_refresh));
  cfg.send_timeout = ms_of(send_timeout);
  cfg.persist_batch_wait = ms_of(batch_wait);
  cfg.consumer_retry_backoff = ms_of(retry_backoff);
  cfg.dedup_ttl = std::chrono::duration_cast<std::chrono::seconds>(ms_of(dedup_ttl));
  cfg.login_failure_window = std::chrono::duration_cast<std::chrono::seconds>(ms_of(login_failure_window));
  if (cfg.login_failure_window.count() < 1) {
    return fail("--login-failure-window (CHATD_LOGIN_FAILURE_WINDOW): must be at least 1s");
  }
  if (cfg.presence_ttl.count() < 2) return fail("--presence-ttl (CHATD_PRESENCE_TTL): must be at least 2s");
  if (cfg.presence_refresh.count() < 1 || cfg.presence_refresh >= cfg.presence_ttl) {
    return fail("--presence-refresh (CHATD_PRESENCE_REFRESH): must be at least 1s and shorter than --presence-ttl");
  }
  if (cfg.send_timeout.count() < 100) return fail("--send-timeout (CHATD_SEND_TIMEOUT): must be at least 100ms");
  cfg.admission_timeout = ms_of(admission_timeout);
  cfg.edit_window = ms_of(edit_window);
  cfg.sse_replay = ms_of(sse_replay);
  cfg.sse_heartbeat = ms_of(sse_heartbeat);
  if (cfg.sse_heartbeat.count() < 10) return fail("--sse-heartbeat (CHATD_SSE_HEARTBEAT): must be at least 10ms");
  if (cfg.sse_max_buffer < 1024) return fail("--sse-max-buffer (CHATD_SSE_MAX_BUFFER): must be at least 1024");
  cfg.admission_target_delay = ms_of(admission_target_delay);
  if (cfg.admission_timeout.count() < 10) {
    return fail("--admission-timeout (CHATD_ADMISSION_TIMEOUT): must be at least 10ms");
  }
  {
    const auto comma = heartbeat.find(',');
    bool ok = comma != std::string::npos && comma > 0 && comma + 1 < heartbeat.size() &&
              heartbeat.find_first_not_of("0123456789,") == std::string::npos && heartbeat.size() <= 21;
    if (ok) {
      cfg.heartbeat_send_ms = static_cast<std::uint32_t>(std::stoul(heartbeat.substr(0, comma)));
      cfg.heartbeat_receive_ms = static_cast<std::uint32_t>(std::stoul(heartbeat.substr(comma + 1)));
    }
    if (!ok) return fail("--heartbeat (CHATD_HEARTBEAT): expected send-ms,receive-ms such as 10000,10000");
  }

  cfg.file_retention = std::chrono::duration_cast<std::chrono::seconds>(ms_of(file_retention));
  cfg.file_cleanup_interval = ms_of(file_cleanup_interval);
  if (cfg.file_cleanup_interval.count() < 100) {
    return fail("--file-cleanup-interval (CHATD_FILE_CLEANUP_INTERVAL): must be at least 100ms");
  }

  cfg.scheduler_tick = ms_of(scheduler_tick);
  if (cfg.scheduler_tick.count() < 10 || cfg.scheduler_tick.count() > 60000) {
    return fail("--scheduler-tick (CHATD_SCHEDULER_TICK): must be 10ms to 60s");
  }

  std::string bad_role;
  if (!parse_roles(roles_text, cfg.roles, bad_role)) {
    return fail("--roles (CHATD_ROLES): unknown role '" + bad_role +
                "' (use gateway,persist,broadcast,receipts,scheduler,preview)");
  }

  {
    std::string bad;
    auto ports = parse_port_list(preview_ports, bad);
    if (!ports) return fail("--preview-ports (CHATD_PREVIEW_PORTS): not a port 1-65535: '" + bad + "'");
    cfg.preview_ports = std::move(*ports);
    auto hosts = parse_host_port_list(preview_allow_hosts, bad);
    if (!hosts) {
      return fail("--preview-allow-hosts (CHATD_PREVIEW_ALLOW_HOSTS): not a host[:port]: '" + bad + "'");
    }
    cfg.preview_allow_hosts = std::move(*hosts);
  }
  cfg.preview_timeout = ms_of(preview_timeout);
  if (cfg.preview_timeout.count() < 100 || cfg.preview_timeout.count() > 60000) {
    return fail("--preview-timeout (CHATD_PREVIEW_TIMEOUT): must be 100ms to 60s");
  }
  cfg.preview_cache_ttl = ms_of(preview_cache_ttl);

  if (cfg.database_url.empty()) return fail("--database-url (CHATD_DATABASE_URL) is required");
  if (cfg.database_url.rfind("postgresql://", 0) != 0 && cfg.database_url.rfind("postgres://", 0) != 0) {
    return fail("--database-url (CHATD_DATABASE_URL): expected postgresql://user:password@host:port/db");
  }
  // Checked here with the parser every Redis user calls: a URL it cannot read must stop the
  // start, not fall back to a default address.
  if (!redis::parse_url(cfg.redis_url)) {
    return fail("--redis-url (CHATD_REDIS_URL): expected redis://[:password@]host[:port][/db]");
  }
  if (cfg.kafka_brokers.empty()) return fail("--kafka-brokers (CHATD_KAFKA_BROKERS) must not be empty");

  if (!jwt_secret_file.empty()) {
    std::ifstream in(jwt_secret_file);
    if (!in) return fail("--jwt-secret-file (CHATD_JWT_SECRET_FILE): cannot read " + jwt_secret_file);
    std::stringstream ss;
    ss << in.rdbuf();
    cfg.jwt_secret = ss.str();
    while (!cfg.jwt_secret.empty() && (cfg.jwt_secret.back() == '\n' || cfg.jwt_secret.back() == '\r')) {
      cfg.jwt_secret.pop_back();
    }
  }
  if (cfg.jwt_secret.empty() && !cfg.dev && !cfg.migrate_only) {
    return fail(
        "--jwt-secret (CHATD_JWT_SECRET) is required (or --jwt-secret-file; --dev generates one for development)");
  }
  if (!cfg.jwt_secret.empty() && cfg.jwt_secret.size() < 32) {
    return fail("--jwt-secret (CHATD_JWT_SECRET): must be at least 32 bytes");
  }
  if (cfg.node_id.empty()) cfg.node_id = default_node_id();
  if (cfg.db_pool_size == 0) {
    // More connections than this only queue inside PostgreSQL on a small machine: on
    // 2 cores, 8 workers raised the history p99 from ~13 ms to 29-110 ms (bench/rest).
    cfg.db_pool_size = static_cast<int>(std::max(2u, 2 * std::thread::hardware_concurrency()));
  }
  return {std::move(cfg), 0};
}

}  // namespace chat::chatd
