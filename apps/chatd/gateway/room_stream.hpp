#pragma once
// GET /api/rooms/stream (docs/rest.md "Room list stream", SPEC §14): the room feed of one user
// (room_feed.hpp) as Server-Sent Events on an HTTP streaming response. First a `snapshot`
// event (the GET /api/rooms body) -- or, after a reconnect with Last-Event-ID within the
// replay window, the events missed -- then room.added / room.updated / room.removed, each with
// `id:`; a comment line every `heartbeat`. A reader that does not read is dropped by the HTTP
// server's bound (http::server_limits::max_stream_buffer) and counted as a slow consumer.
#include "gateway/room_feed.hpp"
#include "http/types.hpp"
#include "tokens/live_tokens.hpp"

#include <boost/asio/any_io_executor.hpp>

#include <chrono>
#include <cstdint>
#include <string_view>

namespace chat::metrics {
struct chat_metrics;
}

namespace chat::gateway {

struct room_stream_settings {
  std::chrono::milliseconds heartbeat{15000};  // --sse-heartbeat
  // Where the stream registers its token (may be null): when it is revoked, the reader gets
  // `event: error` with data {"message":"token revoked"} and the stream ends.
  chatd::tokens::live_tokens* live_tokens = nullptr;
};

// Opens the stream for the user of `token` (authenticated by the caller) and attaches it to `feed`;
// answers 503 through `respond` instead when the feed is shutting down. `executor` runs the
// heart-beat timer. `metrics` may be null.
void open_room_stream(room_feed& feed, const boost::asio::any_io_executor& executor, room_stream_settings settings,
                      metrics::chat_metrics* metrics, const chatd::tokens::token_ref& token,
                      std::string_view last_event_id, const http::stream_opener& open, const http::responder& respond);

}  // namespace chat::gateway
