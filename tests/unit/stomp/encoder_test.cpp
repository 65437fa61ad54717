#include "decode_util.hpp"

#include <chat/stomp/decoder.hpp>
#include <chat/stomp/encoder.hpp>

#include <gtest/gtest.h>

#include <random>
#include <string>

namespace chat::stomp {
namespace {

using test::operator""_b;

TEST(Encoder, FrameWithoutBody) {
  const frame f{command::subscribe, {{"id", "0"}, {"destination", "/topic/room.1"}}, ""};
  EXPECT_EQ(encode(f), "SUBSCRIBE\nid:0\ndestination:/topic/room.1\n\n\0"_b);
}

TEST(Encoder, AppendsToExistingBuffer) {
  std::string out = "prefix";
  encode(frame{command::receipt, {{"receipt-id", "77"}}, ""}, out);
  encode_heartbeat(out);
  encode(frame{command::disconnect, {}, ""}, out);
  EXPECT_EQ(out, "prefixRECEIPT\nreceipt-id:77\n\n\0\nDISCONNECT\n\n\0"_b);
}

TEST(Encoder, HeartBeatIsOneLf) {
  std::string out;
  encode_heartbeat(out);
  EXPECT_EQ(out, "\n");
}

TEST(Encoder, AddsContentLengthForNonEmptyBody) {
  const frame f{command::message, {{"destination", "/topic/room.1"}}, "hi\0there"_b};
  EXPECT_EQ(encode(f), "MESSAGE\ndestination:/topic/room.1\ncontent-length:8\n\nhi\0there\0"_b);
}

TEST(Encoder, KeepsAnExistingContentLength) {
  const frame f{command::send, {{"content-length", "2"}, {"destination", "/a"}}, "ok"};
  EXPECT_EQ(encode(f), "SEND\ncontent-length:2\ndestination:/a\n\nok\0"_b);
}

TEST(Encoder, EscapesEverySpecialOctet) {
  const frame f{command::message, {{"a:b\\c", "line1\nline2\r:\\"}}, ""};
  EXPECT_EQ(encode(f), "MESSAGE\na\\cb\\\\c:line1\\nline2\\r\\c\\\\\n\n\0"_b);
}

TEST(Encoder, ConnectAndConnectedAreNotEscaped) {
  EXPECT_EQ(encode(frame{command::connected, {{"server", "chatd/0.1:x\\y"}}, ""}),
            "CONNECTED\nserver:chatd/0.1:x\\y\n\n\0"_b);
  EXPECT_EQ(encode(frame{command::connect, {{"passcode", "a:b"}}, ""}), "CONNECT\npasscode:a:b\n\n\0"_b);
  EXPECT_EQ(encode(frame{command::stomp, {{"login", "d\\u"}}, ""}), "STOMP\nlogin:d\\u\n\n\0"_b);
}

TEST(Encoder, EscapingCanBeTurnedOffForStomp10) {
  const frame f{command::message, {{"destination", "/q:a\\b"}}, ""};
  EXPECT_EQ(encode(f, encode_options{.escape = false}), "MESSAGE\ndestination:/q:a\\b\n\n\0"_b);
}

TEST(Encoder, DecoderReadsWhatEncoderWrote) {
  const frame f{command::error,
                {{"message", "bad: frame"}, {"receipt-id", "r\n1"}, {"content-type", "text/plain"}},
                "details\n\0more"_b};
  const auto d = test::decode_any_split(encode(f));
  ASSERT_FALSE(d.error);
  ASSERT_EQ(d.frames().size(), 1u);
  frame expected = f;
  expected.headers.push_back({"content-length", "13"});
  EXPECT_EQ(d.frames()[0], expected);
}

// ---- Randomized encode -> decode round trip ---------------------------------------------

constexpr command all_commands[] = {
    command::connect,     command::stomp,      command::connected, command::send,    command::subscribe,
    command::unsubscribe, command::ack,        command::nack,      command::begin,   command::commit,
    command::abort,       command::disconnect, command::message,   command::receipt, command::error,
};

// Valid UTF-8 text from a small alphabet that is rich in octets needing escapes.
std::string random_text(std::mt19937_64& rng, std::size_t max_len, bool allow_specials) {
  static const std::string_view plain[] = {
      "a", "Z", "0", "-", "/", " ", ".", "\xC3\xA9", "\xE2\x82\xAC", "\xF0\x9F\x98\x80"};
  static const std::string_view special[] = {":", "\\", "\n", "\r"};
  std::string out;
  const std::size_t len = rng() % (max_len + 1);
  for (std::size_t i = 0; i < len; ++i) {
    if (allow_specials && rng() % 4 == 0) {
      out += special[rng() % std::size(special)];
    } else {
      out += plain[rng() % std::size(plain)];
    }
  }
  return out;
}

std::string random_body(std::mt19937_64& rng) {
  std::string body(rng() % 300, '\0');
  for (char& c : body) {
    // Mostly binary, with NULs, CRs and LFs well represented.
    switch (rng() % 4) {
      case 0: c = '\0'; break;
      case 1: c = (rng() % 2) ? '\n' : '\r'; break;
      default: c = static_cast<char>(rng() % 256); break;
    }
  }
  return rng() % 5 == 0 ? std::string() : body;
}

frame random_frame(std::mt19937_64& rng, bool escaping) {
  frame f;
  f.cmd = all_commands[rng() % std::size(all_commands)];
  // Unescaped frames cannot carry CR, LF, or ':' in names (the caller's contract).
  const bool escaped = escaping && !is_escape_exempt(f.cmd);
  const std::size_t n = rng() % 8;
  for (std::size_t i = 0; i < n; ++i) {
    std::string name = random_text(rng, 12, escaped);
    if (name.empty() || (!escaped && name.find(':') != std::string::npos)) name = "h";
    if (name == "content-length") name += "x";
    std::string value = random_text(rng, 20, escaped);
    if (!escaped) {
      // A literal value may still hold ':' (the line splits at the first colon).
      if (rng() % 3 == 0) value += ":colon";
    }
    f.headers.push_back({std::move(name), std::move(value)});
  }
  f.body = random_body(rng);
  return f;
}

TEST(EncoderRoundTrip, RandomFramesSurviveEncodeThenDecode) {
  std::mt19937_64 rng(20261121);
  for (int iteration = 0; iteration < 3000; ++iteration) {
    SCOPED_TRACE(iteration);
    const bool escaping = iteration % 5 != 0;  // every fifth stream is a STOMP 1.0 session

    std::vector<frame> sent;
    std::string wire;
    const std::size_t count = 1 + rng() % 4;
    for (std::size_t i = 0; i < count; ++i) {
      sent.push_back(random_frame(rng, escaping));
      if (rng() % 3 == 0) encode_heartbeat(wire);
      encode(sent.back(), wire, encode_options{.escape = escaping});
    }

    // Whole, and cut at random points.
    const test::decode_config cfg{.escaping = escaping};
    const test::decoded whole = test::decode_whole(wire, cfg);
    const test::decoded cut = test::decode_random_cuts(wire, rng, cfg);
    ASSERT_FALSE(whole.error) << whole.error.message();
    ASSERT_EQ(cut, whole);

    const std::vector<frame> got = whole.frames();
    ASSERT_EQ(got.size(), sent.size());
    for (std::size_t i = 0; i < sent.size(); ++i) {
      frame expected = sent[i];
      if (!expected.body.empty()) {
        expected.headers.push_back({"content-length", std::to_string(expected.body.size())});
      }
      ASSERT_EQ(got[i], expected) << "frame " << i << " of " << wire.size() << " octets";
    }
  }
}

TEST(EncoderRoundTrip, OctetByOctet) {
  std::mt19937_64 rng(7);
  for (int iteration = 0; iteration < 200; ++iteration) {
    std::string wire;
    for (int i = 0; i < 3; ++i) encode(random_frame(rng, true), wire);
    const auto whole = test::decode_whole(wire);
    ASSERT_FALSE(whole.error);
    ASSERT_EQ(test::decode_bytewise(wire), whole);
  }
}

}  // namespace
}  // namespace chat::stomp
