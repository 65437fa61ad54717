#pragma once
// The metrics of docs/operations.md, registered once at start-up and handed to the components
// that update them (by reference; the registry outlives them all).
#include "metrics/metrics.hpp"

#include <string>

namespace chat::metrics {

struct chat_metrics {
  explicit chat_metrics(registry& r);

  registry& reg;
  counter& messages_sent;       // chat_messages_sent_total: SENDs acknowledged by Kafka
  gauge& websocket_sessions;    // chat_websocket_sessions{transport="websocket"}
  gauge& tcp_sessions;          // chat_websocket_sessions{transport="tcp"}
  counter& rooms_created;       // chat_rooms_created_total
  histogram& delivery_latency;  // chat_delivery_latency_seconds: sent-at -> written to socket
  // chat_stage_latency_seconds{stage}: where a room event's milliseconds go (docs/operations.md
  // "Latency anatomy"), each the time since its createdAt (stamped when the gateway or REST took
  // it) at one point of the pipeline, observed by the node that passes that point.
  histogram& stage_kafka_acked;         // {stage="kafka_acked"}: the broker acknowledged it (gateway)
  histogram& stage_broadcast_consumed;  // {stage="broadcast_consumed"}: chat-broadcast fetched it
  histogram& stage_redis_published;     // {stage="redis_published"}: its PUBLISH returned
  histogram& stage_node_received;       // {stage="node_received"}: a gateway node got it from Redis
  histogram& stage_socket_written;      // {stage="socket_written"}: its MESSAGE written to a socket
  counter& rate_limited;                // chat_rate_limited_total
  counter& logins_locked;               // chat_logins_locked_total: logins refused by --login-failure-limit
  counter& auth_rate_limited;           // chat_auth_rate_limited_total: signups/logins refused by --auth-rate-limit
  counter& password_shed;               // chat_password_shed_total: signups/logins refused, password queue full
  gauge& password_queue_depth;          // chat_password_queue_depth: signups/logins waiting for a password worker
  counter& logins_verified_known;       // chat_login_verifications_total{account="known"}
  counter& logins_verified_unknown;     // chat_login_verifications_total{account="unknown"}: against the dummy hash
  counter& slow_consumer_disconnects;   // chat_slow_consumer_disconnects_total
  gauge& http_pending_handshakes;       // chat_http_pending_handshakes: connections without a first request
  counter& http_handshakes_evicted;     // chat_http_handshakes_evicted_total: closed by --max-http-handshakes
  gauge& stomp_pending_handshakes;      // chat_stomp_pending_handshakes: STOMP/TCP connections without CONNECT
  counter& stomp_handshakes_evicted;    // chat_stomp_handshakes_evicted_total: closed by --max-stomp-handshakes
  gauge& open_fds;                      // process_open_fds (the Prometheus process-collector names)
  gauge& max_fds;                       // process_max_fds: the soft RLIMIT_NOFILE
  // Overload (docs/operations.md "Overload"): fan-out shed, the admission gate.
  counter& fanout_shed;             // chat_fanout_shed_total: fan-out events dropped for a session
  gauge& admission_inflight;        // chat_admission_inflight_sends: published, not yet acknowledged
  gauge& admission_inflight_bytes;  // chat_admission_inflight_bytes
  gauge& admission_waiting;         // chat_admission_waiting_sessions: waiting for a slot
  gauge& admission_rate;            // chat_admission_rate: SENDs/s admitted now; 0 = not limited
  counter& admission_waits;         // chat_admission_waits_total: SENDs that had to wait
  counter& admission_refused;       // chat_admission_refused_total: refused after --admission-timeout
  // Recovery on SUBSCRIBE with since-id (docs/stomp.md "Recovery").
  counter& recoveries;            // chat_recoveries_total: recovering SUBSCRIBEs answered
  counter& recovery_events;       // chat_recovery_events_total: room events replayed from the store
  counter& recovery_truncations;  // chat_recovery_truncations_total: answered recovered:false
  // chat_recovery_seconds{stage}: arm (SUBSCRIBE -> the bus confirms), locate (-> the log's end
  // known), store (-> the store has caught up and answered), total (SUBSCRIBE -> RECEIPT)
  histogram& recovery_arm;
  histogram& recovery_locate;
  histogram& recovery_store;
  histogram& recovery_total;
  counter& recoveries_from_memory;  // chat_recoveries_from_memory_total: answered by the room channel's memory
  counter& recovery_store_polls;    // chat_recovery_store_polls_total: store asked again (it was behind)
  // chat_message_key_claims_total{outcome}: messages with a client-supplied messageKey after
  // Kafka's ack (core/message_keys.hpp): first of their key, retry (answered with the first's
  // id), unavailable (Redis could not be asked: answered with their own id).
  counter& key_claims_first;
  counter& key_claims_retry;
  counter& key_claims_unavailable;
  // GET /api/rooms/stream (docs/rest.md "Room list stream").
  gauge& sse_connections;    // chat_sse_connections: open streams
  counter& sse_events_sent;  // chat_sse_events_sent_total: events (snapshots included) queued to a stream
  counter& sse_dropped;      // chat_sse_dropped_total: readers dropped for not reading (also slow consumers)
  // Tokens (docs/rest.md "Tokens").
  counter& token_revoked_disconnects;  // chat_token_revoked_disconnects_total: sessions/streams ended
  gauge& token_revocations_live;       // chat_token_revocations_live: 1 while the cache is complete (Redis)
  gauge& token_revocations_cached;     // chat_token_revocations_cached: entries in the node's cache

  // Per consumer group / topic series.
  counter& consumed(const std::string& group);            // chat_messages_consumed_total{group}
  histogram& consume_duration(const std::string& group);  // chat_message_consume_duration_seconds{group}
  gauge& consumer_lag(const std::string& group);          // chat_consumer_lag{group}
  gauge& consumer_blocked(const std::string& group);      // chat_consumer_blocked{group}: 1 while retrying a batch
  counter& consumer_failed_attempts(const std::string& group);  // chat_consumer_failed_attempts_total{group}
  counter& dlt_records(const std::string& topic);               // chat_dlt_records_total{topic}
  // chat_token_revocations_total{reason}: logout, logout_all, password_change, reuse
  counter& token_revocations(const std::string& reason);
  // chat_token_refreshes_total{outcome}: rotated, reused, revoked, expired, unknown, malformed
  counter& token_refreshes(const std::string& outcome);
};

}  // namespace chat::metrics
