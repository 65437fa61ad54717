#include "metrics/chat_metrics.hpp"

namespace chat::metrics {

namespace {

constexpr const char* recovery_stage_help =
    "Stages of a SUBSCRIBE with since-id: arm (until the bus confirms the room's channel), locate (until the "
    "log's end is known), store (until the store has caught up with it and answered), total (until the RECEIPT)";
constexpr const char* stage_help =
    "Seconds since a room event's createdAt when it passed a stage: kafka_acked (the broker acknowledged it), "
    "broadcast_consumed (chat-broadcast fetched it), redis_published (its PUBLISH returned), node_received (a "
    "gateway node got it from Redis), socket_written (its MESSAGE was written to a subscriber's socket)";
constexpr const char* key_claims_help =
    "Messages with a client-supplied messageKey acknowledged by Kafka: the first of their key, a retry (answered "
    "with the first's id), or unavailable (Redis could not be asked: answered with their own id)";

}  // namespace

chat_metrics::chat_metrics(registry& r)
    : reg(r),
      messages_sent(r.get_counter("chat_messages_sent_total", "Chat messages accepted (acknowledged by Kafka)")),
      websocket_sessions(
          r.get_gauge("chat_websocket_sessions", "Open STOMP sessions on this node", {{"transport", "websocket"}})),
      tcp_sessions(r.get_gauge("chat_websocket_sessions", "Open STOMP sessions on this node", {{"transport", "tcp"}})),
      rooms_created(r.get_counter("chat_rooms_created_total", "Rooms created")),
      delivery_latency(r.get_histogram("chat_delivery_latency_seconds",
                                       "From the sent-at of a message to its MESSAGE frame written to a socket")),
      stage_kafka_acked(r.get_histogram("chat_stage_latency_seconds", stage_help, {{"stage", "kafka_acked"}})),
      stage_broadcast_consumed(
          r.get_histogram("chat_stage_latency_seconds", stage_help, {{"stage", "broadcast_consumed"}})),
      stage_redis_published(r.get_histogram("chat_stage_latency_seconds", stage_help, {{"stage", "redis_published"}})),
      stage_node_received(r.get_histogram("chat_stage_latency_seconds", stage_help, {{"stage", "node_received"}})),
      stage_socket_written(r.get_histogram("chat_stage_latency_seconds", stage_help, {{"stage", "socket_written"}})),
      rate_limited(r.get_counter("chat_rate_limited_total", "SENDs refused by the per-user rate limit")),
      logins_locked(r.get_counter("chat_logins_locked_total",
                                  "Logins refused with 429 because of too many recent failures for the email")),
      auth_rate_limited(r.get_counter("chat_auth_rate_limited_total",
                                      "Signups and logins refused with 429 by the per-address --auth-rate-limit")),
      password_shed(r.get_counter("chat_password_shed_total",
                                  "Signups and logins refused with 503 because the password queue was full")),
      password_queue_depth(
          r.get_gauge("chat_password_queue_depth", "Signups and logins waiting for a password worker")),
      logins_verified_known(r.get_counter("chat_login_verifications_total",
                                          "Login passwords verified, by whether the email named an account",
                                          {{"account", "known"}})),
      logins_verified_unknown(r.get_counter("chat_login_verifications_total",
                                            "Login passwords verified, by whether the email named an account",
                                            {{"account", "unknown"}})),
      slow_consumer_disconnects(
          r.get_counter("chat_slow_consumer_disconnects_total", "Sessions disconnected as slow consumers")),
      http_pending_handshakes(
          r.get_gauge("chat_http_pending_handshakes",
                      "HTTP connections whose first request (REST or /ws upgrade) has not arrived")),
      http_handshakes_evicted(r.get_counter("chat_http_handshakes_evicted_total",
                                            "HTTP connections closed without a request because --max-http-handshakes "
                                            "was reached")),
      stomp_pending_handshakes(r.get_gauge("chat_stomp_pending_handshakes",
                                           "STOMP sessions (TCP and WebSocket) that have not accepted a CONNECT yet")),
      stomp_handshakes_evicted(r.get_counter("chat_stomp_handshakes_evicted_total",
                                             "STOMP connections (TCP and WebSocket) closed before CONNECT because "
                                             "--max-stomp-handshakes was reached")),
      open_fds(r.get_gauge("process_open_fds", "Open file descriptors (every connection is one)")),
      max_fds(r.get_gauge("process_max_fds", "Maximum number of open file descriptors (soft limit)")),
      fanout_shed(r.get_counter("chat_fanout_shed_total",
                                "Fan-out events dropped for a session whose queue was full or whose I/O thread "
                                "was behind (the client is told on /user/queue/errors)")),
      admission_inflight(
          r.get_gauge("chat_admission_inflight_sends", "SENDs handed to Kafka and not yet acknowledged")),
      admission_inflight_bytes(
          r.get_gauge("chat_admission_inflight_bytes", "Bytes of the SENDs handed to Kafka and not yet acknowledged")),
      admission_waiting(
          r.get_gauge("chat_admission_waiting_sessions", "Sessions waiting for an admission slot (reading paused)")),
      admission_rate(r.get_gauge("chat_admission_rate",
                                 "SENDs per second this node admits while delivery is behind "
                                 "(--admission-target-delay); 0 = not limited")),
      admission_waits(r.get_counter("chat_admission_waits_total",
                                    "SENDs that waited for an admission slot (--max-inflight-sends/-bytes)")),
      admission_refused(r.get_counter("chat_admission_refused_total",
                                      "SENDs refused with server overloaded after --admission-timeout")),
      recoveries(
          r.get_counter("chat_recoveries_total",
                        "SUBSCRIBEs with since-id whose recovery ended (their RECEIPT: recovered true or false)")),
      recovery_events(r.get_counter("chat_recovery_events_total", "Room events replayed from the store by recoveries")),
      recovery_truncations(r.get_counter("chat_recovery_truncations_total",
                                         "Recoveries that ended recovered:false (more than --recovery-limit "
                                         "events, the store behind for too long, or too many live events meanwhile)")),
      recovery_arm(r.get_histogram("chat_recovery_seconds", recovery_stage_help, {{"stage", "arm"}})),
      recovery_locate(r.get_histogram("chat_recovery_seconds", recovery_stage_help, {{"stage", "locate"}})),
      recovery_store(r.get_histogram("chat_recovery_seconds", recovery_stage_help, {{"stage", "store"}})),
      recovery_total(r.get_histogram("chat_recovery_seconds", recovery_stage_help, {{"stage", "total"}})),
      recoveries_from_memory(r.get_counter("chat_recoveries_from_memory_total",
                                           "Recoveries answered from the newest room events this node remembers "
                                           "(--recovery-memory), without the store")),
      recovery_store_polls(r.get_counter("chat_recovery_store_polls_total",
                                         "Recovery queries answered 'the store is behind the log': asked again later")),
      key_claims_first(r.get_counter("chat_message_key_claims_total", key_claims_help, {{"outcome", "first"}})),
      key_claims_retry(r.get_counter("chat_message_key_claims_total", key_claims_help, {{"outcome", "retry"}})),
      key_claims_unavailable(
          r.get_counter("chat_message_key_claims_total", key_claims_help, {{"outcome", "unavailable"}})),
      sse_connections(r.get_gauge("chat_sse_connections", "Open GET /api/rooms/stream responses")),
      sse_events_sent(r.get_counter("chat_sse_events_sent_total",
                                    "Events (snapshots included) queued to GET /api/rooms/stream readers")),
      sse_dropped(r.get_counter("chat_sse_dropped_total",
                                "GET /api/rooms/stream readers dropped for not reading (--sse-max-buffer)")),
      token_revoked_disconnects(r.get_counter("chat_token_revoked_disconnects_total",
                                              "STOMP sessions and room streams ended because their token was revoked")),
      token_revocations_live(r.get_gauge("chat_token_revocations_live",
                                         "1 while this node hears every token revocation through Redis; 0 while "
                                         "REST checks tokens in PostgreSQL (Redis down)")),
      token_revocations_cached(r.get_gauge("chat_token_revocations_cached",
                                           "Token revocations this node holds (until the tokens they name expire)")) {
  for (const auto* reason : {"logout", "logout_all", "password_change", "reuse"}) token_revocations(reason);
  for (const auto* outcome : {"rotated", "reused", "revoked", "expired", "unknown", "malformed"}) {
    token_refreshes(outcome);
  }
}

counter& chat_metrics::consumed(const std::string& group) {
  return reg.get_counter("chat_messages_consumed_total", "Records processed per consumer group", {{"group", group}});
}

histogram& chat_metrics::consume_duration(const std::string& group) {
  return reg.get_histogram("chat_message_consume_duration_seconds", "Time to process one consumed batch",
                           {{"group", group}});
}

gauge& chat_metrics::consumer_lag(const std::string& group) {
  return reg.get_gauge("chat_consumer_lag", "Records behind the partition end, summed per consumer group",
                       {{"group", group}});
}

gauge& chat_metrics::consumer_blocked(const std::string& group) {
  return reg.get_gauge("chat_consumer_blocked",
                       "1 while the consumer group's member retries a failed batch (a dependency is down)",
                       {{"group", group}});
}

counter& chat_metrics::consumer_failed_attempts(const std::string& group) {
  return reg.get_counter("chat_consumer_failed_attempts_total",
                         "Batch attempts that failed and were retried, per consumer group", {{"group", group}});
}

counter& chat_metrics::token_revocations(const std::string& reason) {
  return reg.get_counter("chat_token_revocations_total",
                         "Token revocations made on this node, by reason (logout, logout_all, password_change, reuse)",
                         {{"reason", reason}});
}

counter& chat_metrics::token_refreshes(const std::string& outcome) {
  return reg.get_counter("chat_token_refreshes_total",
                         "POST /api/auth/refresh answers by outcome (rotated, reused, revoked, expired, unknown, "
                         "malformed)",
                         {{"outcome", outcome}});
}

counter& chat_metrics::dlt_records(const std::string& topic) {
  return reg.get_counter("chat_dlt_records_total", "Records written to a dead-letter topic", {{"topic", topic}});
}

}  // namespace chat::metrics
