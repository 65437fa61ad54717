#pragma once
// STOMP over WebSocket at /ws (docs/stomp.md), subprotocols v12.stomp, v11.stomp, v10.stomp.
//
// The HTTP server hands over the connection of an upgrade request (http::upgrade_handler);
// ws_upgrade() checks the target, picks the client's best STOMP subprotocol, completes
// the handshake and runs the same session core as STOMP/TCP. Each outgoing frame (or
// heart-beat) is one text message written from the queued buffers without copying them;
// incoming messages are fed to the decoder as a byte stream, so a client may split or
// batch frames across messages and the decoder's limits apply the same way as on TCP.
//
// From the end of the WebSocket handshake until its session leaves awaiting-CONNECT, a
// connection counts towards the same handshake_gate as STOMP/TCP (--max-stomp-handshakes):
// past the cap the oldest such connection, on either transport, gets ERROR "handshake
// capacity exceeded" and is closed (close frame, no linger).
#include "gateway/tcp_transport.hpp"
#include "http/server.hpp"

#include <optional>
#include <string_view>

namespace chat::gateway {

// The subprotocol to answer for a Sec-WebSocket-Protocol request header: the highest
// STOMP version the client offers, or nullopt when it offers none of ours.
std::optional<std::string_view> choose_stomp_subprotocol(std::string_view offered) noexcept;

struct ws_options {
  std::chrono::milliseconds handshake_timeout{10000};  // WebSocket handshake and close handshake
  int send_buffer = 0;                                 // SO_SNDBUF (--socket-send-buffer); 0 = kernel default
};

// The upgrade handler for http::server: /ws becomes a STOMP session (other targets get a
// 404). Runs on the HTTP connection's strand, which becomes the session's strand. `gate`
// (may be null: no cap) is the gateway's, shared with the tcp_listener.
http::upgrade_handler make_ws_upgrade_handler(session_factory make_session, ws_options options,
                                              std::shared_ptr<std::atomic<bool>> accepting,
                                              std::shared_ptr<handshake_gate> gate = nullptr);

}  // namespace chat::gateway
