#pragma once
// Protocol version and heart-beat negotiation of the CONNECT / CONNECTED exchange.
#include <cstdint>
#include <optional>
#include <string_view>

namespace chat::stomp {

enum class version { v1_0, v1_1, v1_2 };

// "1.0", "1.1", "1.2".
std::string_view to_string(version v) noexcept;

// The highest version in a CONNECT frame's comma-separated accept-version header that the
// server supports. A missing header means the client speaks 1.0 only. Unknown entries are
// ignored (spaces around entries tolerated); nullopt when nothing is in common.
std::optional<version> negotiate_version(std::optional<std::string_view> accept_version) noexcept;

// A heart-beat header "cx,cy": cx = the smallest interval at which the sender can send
// heart-beats, cy = the interval at which it wants to receive them, in ms, 0 = never.
struct heart_beat {
  std::uint32_t cx = 0;
  std::uint32_t cy = 0;

  friend bool operator==(const heart_beat&, const heart_beat&) = default;
};

// Two decimal numbers (digits only, each fitting 32 bits) separated by one comma.
std::optional<heart_beat> parse_heart_beat(std::string_view text) noexcept;

// What the server does once CONNECTED is sent, in ms; 0 = disabled.
struct heart_beat_plan {
  std::uint32_t send_every_ms;    // server -> client heart-beats
  std::uint32_t expect_every_ms;  // client -> server; silence well beyond it is a dead peer

  friend bool operator==(const heart_beat_plan&, const heart_beat_plan&) = default;
};

// Spec §Heart-beating: each direction is on only when the sender can send and the receiver
// wants to receive, at the larger of the two intervals. `server` is what the server puts in
// its CONNECTED frame's heart-beat header.
heart_beat_plan negotiate_heart_beat(heart_beat client, heart_beat server) noexcept;

}  // namespace chat::stomp
