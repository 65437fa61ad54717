#include <chat/stomp/negotiation.hpp>

#include <gtest/gtest.h>

namespace chat::stomp {
namespace {

TEST(Version, Names) {
  EXPECT_EQ(to_string(version::v1_0), "1.0");
  EXPECT_EQ(to_string(version::v1_1), "1.1");
  EXPECT_EQ(to_string(version::v1_2), "1.2");
}

TEST(Version, NegotiationTable) {
  struct row {
    std::optional<std::string_view> accept;
    std::optional<version> expected;
  };
  const row table[] = {
      {std::nullopt, version::v1_0},  // header missing: a 1.0 client
      {"1.0", version::v1_0},
      {"1.1", version::v1_1},
      {"1.2", version::v1_2},
      {"1.0,1.1,1.2", version::v1_2},
      {"1.2,1.1,1.0", version::v1_2},
      {"1.0,1.1", version::v1_1},
      {"1.1,1.0", version::v1_1},
      {"1.0,1.2", version::v1_2},
      {"1.1, 1.2", version::v1_2},  // stray spaces tolerated
      {"1.2,1.3", version::v1_2},   // unknown versions ignored
      {"2.0,1.1", version::v1_1},
      {"1.3", std::nullopt},
      {"2.0,3.0", std::nullopt},
      {"", std::nullopt},
      {",", std::nullopt},
      {"1.", std::nullopt},
      {"1.20", std::nullopt},
      {"v1.2", std::nullopt},
  };
  for (const row& r : table) {
    SCOPED_TRACE(r.accept ? std::string(*r.accept) : "<missing>");
    EXPECT_EQ(negotiate_version(r.accept), r.expected);
  }
}

TEST(HeartBeat, ParseTable) {
  struct row {
    std::string_view text;
    std::optional<heart_beat> expected;
  };
  const row table[] = {
      {"0,0", heart_beat{0, 0}},
      {"10000,10000", heart_beat{10000, 10000}},
      {"0,1000", heart_beat{0, 1000}},
      {"500,0", heart_beat{500, 0}},
      {"4294967295,1", heart_beat{4294967295u, 1}},
      {"007,010", heart_beat{7, 10}},
      {"4294967296,0", std::nullopt},  // overflow
      {"", std::nullopt},
      {",", std::nullopt},
      {"1,", std::nullopt},
      {",1", std::nullopt},
      {"1", std::nullopt},
      {"1,2,3", std::nullopt},
      {"-1,0", std::nullopt},
      {"+1,0", std::nullopt},
      {" 1,0", std::nullopt},
      {"1, 0", std::nullopt},
      {"1;0", std::nullopt},
      {"a,b", std::nullopt},
      {"1.5,0", std::nullopt},
  };
  for (const row& r : table) {
    SCOPED_TRACE(std::string(r.text));
    EXPECT_EQ(parse_heart_beat(r.text), r.expected);
  }
}

TEST(HeartBeat, NegotiationTable) {
  struct row {
    heart_beat client;
    heart_beat server;
    heart_beat_plan expected;
  };
  const row table[] = {
      // Nobody wants heart-beats.
      {{0, 0}, {0, 0}, {0, 0}},
      {{0, 0}, {10000, 10000}, {0, 0}},
      {{10000, 10000}, {0, 0}, {0, 0}},
      // Both directions, the larger interval wins.
      {{10000, 10000}, {10000, 10000}, {10000, 10000}},
      {{4000, 20000}, {10000, 10000}, {20000, 10000}},
      {{20000, 4000}, {10000, 10000}, {10000, 20000}},
      {{1000, 1000}, {5000, 3000}, {5000, 3000}},
      // Spec example: client "0,1000" (can't send, wants every second).
      {{0, 1000}, {10000, 10000}, {10000, 0}},
      // Client sends but does not want any.
      {{5000, 0}, {10000, 10000}, {0, 10000}},
      // Server can send but does not want any.
      {{5000, 5000}, {10000, 0}, {10000, 0}},
      {{5000, 5000}, {0, 10000}, {0, 10000}},
  };
  for (const row& r : table) {
    const heart_beat_plan got = negotiate_heart_beat(r.client, r.server);
    EXPECT_EQ(got, r.expected) << "client " << r.client.cx << "," << r.client.cy << " server " << r.server.cx << ","
                               << r.server.cy << " -> send " << got.send_every_ms << " expect " << got.expect_every_ms;
  }
}

}  // namespace
}  // namespace chat::stomp
