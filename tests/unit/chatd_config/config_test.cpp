#include "config/config.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <string>
#include <vector>

using chat::chatd::parse_config;

namespace {

// Runs parse_config over argv with a clean CHATD_* environment plus `env`.
chat::chatd::parse_outcome parse(std::vector<std::string> args,
                                 std::vector<std::pair<std::string, std::string>> env = {}) {
  for (const char* name : {"CHATD_DATABASE_URL", "CHATD_JWT_SECRET", "CHATD_HTTP_PORT", "CHATD_ROLES",
                           "CHATD_HEARTBEAT", "CHATD_LOG_FORMAT", "CHATD_PRESENCE_TTL", "CHATD_PRESENCE_REFRESH"}) {
    unsetenv(name);
  }
  for (const auto& [k, v] : env) setenv(k.c_str(), v.c_str(), 1);
  std::vector<const char*> argv{"chatd"};
  for (const auto& a : args) argv.push_back(a.c_str());
  auto out = parse_config(static_cast<int>(argv.size()), argv.data());
  for (const auto& [k, v] : env) unsetenv(k.c_str());
  return out;
}

const std::string db = "--database-url=postgresql://u:p@127.0.0.1:5432/chat";
const std::string secret = "--jwt-secret=0123456789abcdef0123456789abcdef";

}  // namespace

TEST(Config, DefaultsMatchTheSpec) {
  auto out = parse({db, secret});
  ASSERT_TRUE(out.cfg.has_value());
  const auto& c = *out.cfg;
  EXPECT_EQ(c.http_port, 8080);
  EXPECT_EQ(c.stomp_port, 61613);
  EXPECT_EQ(c.max_frame_bytes, 64u * 1024);
  EXPECT_EQ(c.max_content_chars, 4000u);
  EXPECT_EQ(c.max_headers, 50u);
  EXPECT_EQ(c.rate_limit_per_s, 10);
  EXPECT_EQ(c.rate_limit_burst, 20);
  EXPECT_EQ(c.max_outbound_bytes, 512u * 1024);
  EXPECT_EQ(c.write_stall_timeout.count(), 20000);
  EXPECT_EQ(c.max_sessions_per_user, 20);
  EXPECT_EQ(c.max_subscriptions, 200);
  EXPECT_EQ(c.recovery_limit, 1000);
  EXPECT_EQ(c.presence_ttl.count(), 60);
  EXPECT_EQ(c.jwt_ttl.count(), 3600);
  EXPECT_EQ(c.refresh_ttl.count(), 30 * 24 * 3600);
  EXPECT_EQ(c.revocation_sync.count(), 2000);
  EXPECT_EQ(c.kafka_partitions, 6);
  EXPECT_EQ(c.consumer_retries, 3);
  EXPECT_EQ(c.heartbeat_send_ms, 10000u);
  EXPECT_EQ(c.login_failure_limit, 10);
  EXPECT_EQ(c.login_failure_window.count(), 300);
  EXPECT_TRUE(c.roles.gateway && c.roles.persist && c.roles.broadcast && c.roles.receipts);
  // Link previews are the server's (SPEC §16): on by default, on ports 80 and 443 only.
  EXPECT_TRUE(c.roles.preview);
  EXPECT_EQ(c.preview_ports, (std::vector<std::uint16_t>{80, 443}));
  EXPECT_TRUE(c.preview_allow_hosts.empty());
  EXPECT_FALSE(c.preview_allow_hosts_only);
  EXPECT_EQ(c.preview_timeout.count(), 5000);
  EXPECT_TRUE(c.roles.scheduler);
  EXPECT_EQ(c.scheduler_tick.count(), 1000);
}

TEST(Config, SchedulerRoleAndTick) {
  auto out = parse({db, secret, "--roles=scheduler", "--scheduler-tick=200ms"});
  ASSERT_TRUE(out.cfg.has_value());
  EXPECT_TRUE(out.cfg->roles.scheduler);
  EXPECT_FALSE(out.cfg->roles.gateway || out.cfg->roles.persist || out.cfg->roles.broadcast || out.cfg->roles.receipts);
  EXPECT_EQ(out.cfg->scheduler_tick.count(), 200);
  auto without = parse({db, secret, "--roles=gateway,persist,broadcast,receipts"});
  ASSERT_TRUE(without.cfg.has_value());
  EXPECT_FALSE(without.cfg->roles.scheduler);
  EXPECT_EQ(parse({db, secret, "--scheduler-tick=5ms"}).exit_code, 2);
  EXPECT_EQ(parse({db, secret, "--scheduler-tick=2m"}).exit_code, 2);
}

TEST(Config, EnvironmentAndFlags) {
  auto out =
      parse({db, secret, "--roles=gateway,receipts"}, {{"CHATD_HTTP_PORT", "9090"}, {"CHATD_HEARTBEAT", "0,5000"}});
  ASSERT_TRUE(out.cfg.has_value());
  EXPECT_EQ(out.cfg->http_port, 9090);
  EXPECT_TRUE(out.cfg->roles.gateway);
  EXPECT_FALSE(out.cfg->roles.persist);
  EXPECT_FALSE(out.cfg->roles.broadcast);
  EXPECT_TRUE(out.cfg->roles.receipts);
  EXPECT_FALSE(out.cfg->roles.preview);
  EXPECT_EQ(out.cfg->heartbeat_send_ms, 0u);
  EXPECT_EQ(out.cfg->heartbeat_receive_ms, 5000u);
}

TEST(Config, DurationsAcceptUnits) {
  auto out =
      parse({db, secret, "--jwt-ttl=2h", "--write-stall-timeout=1500ms", "--presence-ttl=3s", "--presence-refresh=1s"});
  ASSERT_TRUE(out.cfg.has_value());
  EXPECT_EQ(out.cfg->jwt_ttl.count(), 7200);
  EXPECT_EQ(out.cfg->write_stall_timeout.count(), 1500);
  EXPECT_EQ(out.cfg->presence_ttl.count(), 3);
}

TEST(Config, LoginFailureLimit) {
  auto out = parse({db, secret, "--login-failure-limit=0", "--login-failure-window=90s"});
  ASSERT_TRUE(out.cfg.has_value());
  EXPECT_EQ(out.cfg->login_failure_limit, 0);
  EXPECT_EQ(out.cfg->login_failure_window.count(), 90);
  EXPECT_EQ(parse({db, secret, "--login-failure-limit=-1"}).exit_code, 2);
  EXPECT_EQ(parse({db, secret, "--login-failure-window=500ms"}).exit_code, 2);
  EXPECT_EQ(parse({db, secret, "--login-failure-window=soon"}).exit_code, 2);
}

TEST(Config, RecoveryLimit) {
  auto out = parse({db, secret, "--recovery-limit=5"});
  ASSERT_TRUE(out.cfg.has_value());
  EXPECT_EQ(out.cfg->recovery_limit, 5);
  out = parse({db, secret}, {{"CHATD_RECOVERY_LIMIT", "100000"}});
  ASSERT_TRUE(out.cfg.has_value());
  EXPECT_EQ(out.cfg->recovery_limit, 100000);
  EXPECT_EQ(parse({db, secret, "--recovery-limit=0"}).exit_code, 2);
  EXPECT_EQ(parse({db, secret, "--recovery-limit=100001"}).exit_code, 2);
  EXPECT_EQ(parse({db, secret, "--recovery-limit=ten"}).exit_code, 2);
}

TEST(Config, RecoveryMemory) {
  auto out = parse({db, secret});
  ASSERT_TRUE(out.cfg.has_value());
  EXPECT_EQ(out.cfg->recovery_memory, 64);
  out = parse({db, secret, "--recovery-memory=0"});
  ASSERT_TRUE(out.cfg.has_value());
  EXPECT_EQ(out.cfg->recovery_memory, 0);
  out = parse({db, secret}, {{"CHATD_RECOVERY_MEMORY", "500"}});
  ASSERT_TRUE(out.cfg.has_value());
  EXPECT_EQ(out.cfg->recovery_memory, 500);
  EXPECT_EQ(parse({db, secret, "--recovery-memory=-1"}).exit_code, 2);
  EXPECT_EQ(parse({db, secret, "--recovery-memory=100001"}).exit_code, 2);
}

// Port 0 asks the kernel for a free port; --ports-file reports what was bound (tests use it
// instead of racing for a "free" port).
TEST(Config, PortZeroAndPortsFile) {
  const auto out = parse({db, secret, "--http-port=0", "--stomp-port=0", "--ports-file=/tmp/p.json"});
  ASSERT_TRUE(out.cfg.has_value());
  EXPECT_EQ(out.cfg->http_port, 0);
  EXPECT_EQ(out.cfg->stomp_port, 0);
  EXPECT_EQ(out.cfg->ports_file, "/tmp/p.json");
}

TEST(Config, BadValuesExitTwo) {
  EXPECT_EQ(parse({db, secret, "--http-port=65536"}).exit_code, 2);
  EXPECT_EQ(parse({db, secret, "--stomp-port=-1"}).exit_code, 2);
  EXPECT_EQ(parse({db, secret, "--roles=nope"}).exit_code, 2);
  EXPECT_EQ(parse({db, secret, "--heartbeat=abc"}).exit_code, 2);
  EXPECT_EQ(parse({db, secret, "--heartbeat=10,"}).exit_code, 2);
  EXPECT_EQ(parse({db, secret, "--jwt-ttl=10parsecs"}).exit_code, 2);
  EXPECT_EQ(parse({db, secret, "--presence-ttl=10s", "--presence-refresh=20s"}).exit_code, 2);
  EXPECT_EQ(parse({db, "--jwt-secret=short"}).exit_code, 2);
  EXPECT_EQ(parse({secret}).exit_code, 2);  // no database
  EXPECT_EQ(parse({db}).exit_code, 2);      // no secret
  EXPECT_EQ(parse({"--database-url=mysql://x", secret}).exit_code, 2);
  EXPECT_FALSE(parse({db, secret, "--http-port=65536"}).cfg.has_value());
  // A Redis URL that the Redis clients could not read used to start chatd against 127.0.0.1:6379.
  EXPECT_EQ(parse({db, secret, "--redis-url=redis://h:99999"}).exit_code, 2);
  EXPECT_EQ(parse({db, secret, "--redis-url=redis://h:1/x"}).exit_code, 2);
  EXPECT_EQ(parse({db, secret, "--redis-url=redis://"}).exit_code, 2);
  EXPECT_TRUE(parse({db, secret, "--redis-url=redis://:pw@cache:6380/2"}).cfg.has_value());
  // A zero timeout would end every session at once.
  EXPECT_EQ(parse({db, secret, "--handshake-timeout=0"}).exit_code, 2);
  EXPECT_EQ(parse({db, secret, "--write-stall-timeout=0s"}).exit_code, 2);
}

TEST(Config, DevModeAllowsMissingSecret) {
  auto out = parse({db, "--dev"});
  ASSERT_TRUE(out.cfg.has_value());
  EXPECT_TRUE(out.cfg->jwt_secret.empty());
}

TEST(Config, KafkaPropertiesPassThrough) {
  auto out = parse({db, secret, "--kafka-brokers=k1:9092", "--kafka-property=security.protocol=SASL_SSL"});
  ASSERT_TRUE(out.cfg.has_value());
  const auto settings = chat::chatd::kafka_settings(*out.cfg);
  ASSERT_EQ(settings.size(), 3u);
  EXPECT_EQ(settings[0].first, "bootstrap.servers");
  EXPECT_EQ(settings[0].second, "k1:9092");
  EXPECT_EQ(settings[1].first, "reconnect.backoff.max.ms");  // a default: later settings win
  EXPECT_EQ(settings[2].first, "security.protocol");
  EXPECT_EQ(settings[2].second, "SASL_SSL");
}

TEST(Config, AdmissionControlSettings) {
  auto out = parse({db, secret});
  ASSERT_TRUE(out.cfg.has_value());
  EXPECT_EQ(out.cfg->max_inflight_sends, 4000);
  EXPECT_EQ(out.cfg->admission_timeout, std::chrono::milliseconds(5000));
  EXPECT_EQ(out.cfg->send_timeout, std::chrono::milliseconds(30000));
  out = parse({db, secret, "--max-inflight-sends=10", "--max-inflight-bytes=65536", "--admission-timeout=250ms"});
  ASSERT_TRUE(out.cfg.has_value());
  EXPECT_EQ(out.cfg->max_inflight_sends, 10);
  EXPECT_EQ(out.cfg->max_inflight_bytes, 65536u);
  EXPECT_EQ(out.cfg->admission_timeout, std::chrono::milliseconds(250));
  EXPECT_EQ(parse({db, secret, "--admission-timeout=0s"}).exit_code, 2);
  EXPECT_EQ(parse({db, secret, "--max-inflight-sends=-1"}).exit_code, 2);
}

TEST(Config, LinkPreviewSettings) {
  auto out = parse({db, secret, "--roles=preview", "--preview-ports=80, 8443", "--preview-timeout=1500ms",
                    "--preview-allow-hosts=Wiki.Corp., 127.0.0.1:8080, [::1]:81, ::ffff:7f00:1"},
                   {{"CHATD_PREVIEW_ALLOW_HOSTS_ONLY", "true"}});
  ASSERT_TRUE(out.cfg.has_value());
  const auto& c = *out.cfg;
  EXPECT_TRUE(c.roles.preview);
  EXPECT_FALSE(c.roles.gateway);
  EXPECT_EQ(c.preview_ports, (std::vector<std::uint16_t>{80, 8443}));
  EXPECT_EQ(c.preview_timeout.count(), 1500);
  EXPECT_TRUE(c.preview_allow_hosts_only);
  using chat::chatd::host_port;
  EXPECT_EQ(c.preview_allow_hosts,
            (std::vector<host_port>{
                {"wiki.corp", std::nullopt}, {"127.0.0.1", 8080}, {"::1", 81}, {"::ffff:127.0.0.1", std::nullopt}}));

  for (const char* bad : {"--preview-ports=", "--preview-ports=0", "--preview-ports=80,x", "--preview-ports=65536",
                          "--preview-allow-hosts=a b", "--preview-allow-hosts=host:0", "--preview-allow-hosts=[::1",
                          "--preview-allow-hosts=[127.0.0.1]:80", "--preview-allow-hosts=h\xC3\xA9.example",
                          "--preview-allow-hosts=fe80::1%eth0", "--preview-allow-hosts=a..b", "--preview-timeout=50ms",
                          "--preview-workers=0"}) {
    EXPECT_EQ(parse({db, secret, bad}).exit_code, 2) << bad;
  }
}

TEST(Config, HostNormalization) {
  using chat::chatd::normalize_host;
  EXPECT_EQ(normalize_host("LocalHost."), "localhost");
  EXPECT_EQ(normalize_host("::FFFF:127.0.0.1"), "::ffff:127.0.0.1");
  EXPECT_EQ(normalize_host("0:0:0:0:0:0:0:1"), "::1");
  EXPECT_EQ(normalize_host("127.0.0.1"), "127.0.0.1");
  EXPECT_EQ(normalize_host(""), std::nullopt);
  EXPECT_EQ(normalize_host("."), std::nullopt);
  EXPECT_EQ(normalize_host("a/b"), std::nullopt);
  EXPECT_EQ(normalize_host(std::string(64, 'a') + ".com"), std::nullopt);
}
