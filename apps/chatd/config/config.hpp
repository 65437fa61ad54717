#pragma once
// chatd's settings: every one is a flag, an environment variable CHATD_<NAME> and a key
// of the optional --config file (TOML/INI, keys = flag names without dashes).
#include "config/host_port.hpp"
#include "config/ip_network.hpp"

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace chat::chatd {

struct role_set {
  bool gateway = true;
  bool persist = true;
  bool broadcast = true;
  bool receipts = true;
  bool scheduler = true;  // sends due scheduled messages (docs/operations.md "Scheduler")
  bool preview = true;    // link previews (docs/operations.md "Link previews")
};

struct config {
  // network
  std::string http_host = "0.0.0.0";
  std::uint16_t http_port = 8080;
  std::string stomp_host = "0.0.0.0";
  std::uint16_t stomp_port = 61613;
  std::string ports_file;  // empty: none; else {"http":N,"stomp":N,"metrics":N} once the listeners are bound
  int io_threads = 2;
  // exposure (docs/operations.md "Metrics", docs/rest.md "CORS"): /metrics on a listener
  // of its own, never on http_port; CORS for browsers
  std::string metrics_host = "127.0.0.1";
  std::uint16_t metrics_port = 9090;            // 0 picks a free one (see ports_file)
  std::string metrics_token;                    // never logged; set: /metrics needs "Bearer <token>"
  std::vector<std::string> cors_allow_origins;  // scheme://host[:port] in lower case, or "*"; empty: no CORS

  // dependencies
  std::string database_url;
  int db_pool_size = 0;  // 0 = twice the number of cores (measured best on 2 cores: 4)
  int db_queue_limit = 10000;
  std::string redis_url = "redis://127.0.0.1:6379";
  std::string kafka_brokers = "127.0.0.1:9092";
  std::vector<std::string> kafka_properties;  // extra librdkafka key=value pairs
  int kafka_partitions = 6;
  int kafka_replication_factor = 1;
  bool kafka_create_topics = true;
  std::chrono::milliseconds kafka_session_timeout{10000};  // consumer group session

  // identity and security
  std::string jwt_secret;                            // never logged
  std::chrono::seconds jwt_ttl{3600};                // access tokens (--jwt-ttl)
  std::chrono::seconds refresh_ttl{30 * 24 * 3600};  // refresh tokens (--refresh-ttl)
  // The revocation feed's full reload from Redis (or PostgreSQL while Redis is down) and sweep
  // of the live connections: the safety net behind the revocations channel (--revocation-sync).
  std::chrono::milliseconds revocation_sync{2000};
  bool dev = false;
  std::string node_id;

  // gateway limits (docs/stomp.md)
  std::size_t max_frame_bytes = 64 * 1024;
  std::size_t max_content_chars = 4000;
  std::size_t max_headers = 50;
  std::uint32_t heartbeat_send_ms = 10000;     // what the server offers to send (sx)
  std::uint32_t heartbeat_receive_ms = 10000;  // what the server wants to receive (sy)
  double rate_limit_per_s = 10;                // SENDs per user, sustained
  double rate_limit_burst = 20;
  double rate_limit_disconnect_factor = 5;  // past this many times the limit: ERROR + close
  std::size_t max_outbound_bytes = 512 * 1024;
  std::chrono::milliseconds write_stall_timeout{20000};
  int max_sessions_per_user = 20;
  int max_subscriptions = 200;
  // SUBSCRIBE with since-id (docs/stomp.md "Recovery"): at most this many missed room events are
  // replayed (the newest); more: the recovery.truncated marker first, RECEIPT recovered:false.
  int recovery_limit = 1000;
  int recovery_memory = 64;
  std::chrono::milliseconds handshake_timeout{10000};  // TCP/WS connect -> STOMP CONNECT
  // A session whose client sends no heart-beats (offered 0, or the server wants none) and
  // nothing else for this long is closed (ERROR "idle timeout"); 0 = never.
  std::chrono::milliseconds idle_timeout{600000};
  // HTTP (REST and the /ws upgrade): a request must arrive complete within this (also the
  // first one of a new connection, so it bounds a half-open HTTP connection).
  std::chrono::milliseconds http_request_timeout{30000};
  // HTTP connections whose first request has not arrived yet; past it the oldest of them
  // is closed to admit the new one (a flood of half-open connections cannot lock clients out).
  int max_http_handshakes = 1024;
  // The same for STOMP sessions (TCP and WebSocket) that have not accepted a CONNECT yet.
  int max_stomp_handshakes = 1024;
  std::chrono::milliseconds typing_interval{1000};
  std::chrono::seconds presence_ttl{60};
  std::chrono::seconds presence_refresh{20};
  std::chrono::milliseconds send_timeout{30000};              // SEND -> Kafka ack, else ERROR
  std::chrono::milliseconds edit_window{48LL * 3600 * 1000};  // a message can be edited this long after it was sent
  // GET /api/rooms/stream (docs/rest.md "Room list stream"): events stay replayable (Last-Event-ID)
  // this long; a comment line every sse_heartbeat; a reader with more than sse_max_buffer bytes
  // not yet taken by its socket is dropped.
  std::chrono::milliseconds sse_replay{60000};
  std::chrono::milliseconds sse_heartbeat{15000};
  std::size_t sse_max_buffer = 256 * 1024;
  // admission control (docs/stomp.md "Overload"): SENDs published and not yet acknowledged
  int max_inflight_sends = 4000;
  std::size_t max_inflight_bytes = 16 * 1024 * 1024;
  std::chrono::milliseconds admission_timeout{5000};  // waiting for a slot, then "server overloaded"
  // Delivery delay above which the node admits fewer SENDs (rate control); 0 = off.
  std::chrono::milliseconds admission_target_delay{300};
  // SO_SNDBUF of STOMP connections (TCP and WebSocket); 0 = the kernel's autotuning (up to
  // net.ipv4.tcp_wmem's maximum, 4 MiB by default, per connection: what a client that does
  // not read can hold in kernel memory before its write stalls).
  int socket_send_buffer = 0;

  // pipeline (docs/topics.md)
  int persist_batch_size = 500;
  std::chrono::milliseconds persist_batch_wait{10};
  int consumer_retries = 3;
  std::chrono::milliseconds consumer_retry_backoff{1000};
  std::string infra_failure_policy = "block";  // block | dead-letter (PostgreSQL down)
  std::chrono::seconds dedup_ttl{3600};

  // accounts
  std::string password_cost = "interactive";  // interactive | moderate | minimum
  // Failed logins per email within the window before logins for it are refused (429); 0: off.
  int login_failure_limit = 10;
  std::chrono::seconds login_failure_window{300};

  // unauthenticated work: signup and login (docs/operations.md, "Signup and login under load")
  int password_workers = 0;          // Argon2 threads; 0 = 1 on up to two cores, else half the cores
  int password_queue = 64;           // hash jobs waiting; past it signup and login get 503
  double password_cpu_share = 0.25;  // of one core, per password worker: it rests after each hash
  // The binary whose `--internal-password-hasher` children hash passwords (api/hasher_process.hpp):
  // set by main() to /proc/self/exe; "" (tests that build an app in-process) = hash in the workers.
  std::string password_hasher_executable;
  double auth_rate_limit = 5;  // signups and logins per second per client address; 0 = off
  double auth_rate_burst = 20;
  std::vector<ip_network> trusted_proxies;  // peers whose X-Forwarded-For names the client

  // files (docs/rest.md "Files"): uploads stored in PostgreSQL
  std::size_t max_file_bytes = 10 * 1024 * 1024;   // larger uploads get 413
  std::chrono::seconds file_retention{24 * 3600};  // unreferenced uploads older than this are removed
  std::chrono::milliseconds file_cleanup_interval{600000};

  // scheduled messages (docs/operations.md "Scheduler"): how often the scheduler role looks for
  // due occurrences
  std::chrono::milliseconds scheduler_tick{1000};
  // link previews (docs/operations.md "Link previews"): the preview role's fetcher
  std::vector<std::uint16_t> preview_ports{80, 443};  // URLs on other ports are refused
  std::vector<host_port> preview_allow_hosts;         // exempt from the address check (tests, intranets)
  bool preview_allow_hosts_only = false;              // fetch only those (no DNS lookup for any other)
  std::chrono::milliseconds preview_timeout{5000};    // one page, redirects included
  int preview_workers = 4;                            // fetches at once
  int preview_queue = 256;                            // fetches waiting; past it a preview is dropped
  int preview_cache_entries = 4096;                   // URLs remembered (LRU; ~10 KB each at most)
  std::chrono::milliseconds preview_cache_ttl{3600000};

  // behaviour
  role_set roles;
  std::chrono::milliseconds health_interval{1000};
  std::chrono::milliseconds dependency_timeout{2000};
  std::chrono::seconds shutdown_timeout{30};
  std::chrono::seconds startup_timeout{60};
  bool migrate_only = false;
  bool skip_migrations = false;

  std::string log_format = "json";
  std::string log_level = "info";
};

// Outcome of parsing the command line: either a config to run with, or an exit code
// (0 after --help/--version, 2 for a bad setting) and the text already printed.
struct parse_outcome {
  std::optional<config> cfg;
  int exit_code = 0;
  std::string generated;  // parse_mode::generate: the config file text
};

// What parse_config is asked for: the settings to run with; the same checks plus those of the
// files the settings name, for `chatd checkconfig` (nothing starts); or, for `chatd genconfig`,
// a commented config file of every setting with its default (or the value the flags, the
// environment and --config give it).
enum class parse_mode { run, check, generate };

// Parses flags, CHATD_* environment variables and --config; prints help or a message
// naming the bad setting (exit code 2). Never throws.
parse_outcome parse_config(int argc, const char* const* argv, parse_mode mode = parse_mode::run);

// Librdkafka settings implied by the configuration (brokers + --kafka-property).
std::vector<std::pair<std::string, std::string>> kafka_settings(const config& cfg);

// kafka_settings() plus the consumer-group timing (session timeout, heartbeat interval);
// --kafka-property values still win.
std::vector<std::pair<std::string, std::string>> kafka_consumer_settings(const config& cfg);

}  // namespace chat::chatd
