#pragma once
// chatd's STOMP gateway on its real services: user and membership lookups in PostgreSQL
// (gateway/db_directory, on the store's worker pool), presence and the typing relay in
// Redis (presence_service) and the fan-out bus subscription (redis_subscriber). The one
// place that turns chatd's configuration into gateway options.
#include "config/config.hpp"
#include "core/log_positions.hpp"
#include "core/message_keys.hpp"
#include "core/message_log.hpp"
#include "core/recent_messages.hpp"
#include "gateway/gateway.hpp"
#include "store/db_pool.hpp"

#include <boost/asio/io_context.hpp>

#include <memory>

namespace chat::metrics {
struct chat_metrics;
}

namespace chat::gateway {

// Throws std::exception for a --stomp-host that is not an IP address.
gateway_options options_of(const chatd::config& cfg);

// The node's services over cfg.redis_url and `pool`, which must outlive them.
node_services_factory redis_and_postgres_services(const chatd::config& cfg, store::db_pool& pool);

// The gateway of this node (not started). `metrics` as in gateway::gateway(). `recent` (the
// node's, shared with the REST API) learns what the fan-out brings and answers event checks.
// `positions` (may be null) answers recoveries where chat.messages ends; `keys` (may be null,
// shared with the REST API) answers retried messageKeys; `revocations` and `live_tokens` (may
// be null) check CONNECT tokens and end sessions of revoked ones; all outlive the gateway.
std::unique_ptr<gateway> make_gateway(boost::asio::io_context& ioc, const chatd::config& cfg, store::db_pool& pool,
                                      chatd::message_log& log, chatd::admission_gate& admission,
                                      chatd::recent_messages& recent, metrics::chat_metrics* metrics,
                                      chatd::log_positions* positions = nullptr, chatd::message_keys* keys = nullptr,
                                      const chatd::tokens::revocation_cache* revocations = nullptr,
                                      chatd::tokens::live_tokens* live_tokens = nullptr);

}  // namespace chat::gateway
