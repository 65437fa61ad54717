#include "decode_util.hpp"

#include <chat/stomp/decoder.hpp>
#include <chat/stomp/errc.hpp>

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>
#include <vector>

namespace chat::stomp {
namespace {

using test::decode_any_split;
using test::decode_config;
using test::decoded;
using test::operator""_b;

// Decodes `input` (any split) and requires exactly one frame and no error.
frame decode_one(std::string_view input, decode_config cfg = {}) {
  const decoded d = decode_any_split(input, cfg);
  EXPECT_FALSE(d.error) << d.error.message();
  const auto frames = d.frames();
  EXPECT_EQ(frames.size(), 1u) << d;
  return frames.empty() ? frame{} : frames.front();
}

std::error_code decode_error(std::string_view input, decode_config cfg = {}) {
  return decode_any_split(input, cfg).error;
}

// ---- Examples from the STOMP 1.2 specification ------------------------------------------

TEST(DecoderSpecExamples, Connect) {
  const frame f = decode_one("CONNECT\naccept-version:1.2\nhost:stomp.github.org\n\n\0"_b);
  EXPECT_EQ(f.cmd, command::connect);
  ASSERT_EQ(f.headers.size(), 2u);
  EXPECT_EQ(f.headers[0], (header{"accept-version", "1.2"}));
  EXPECT_EQ(f.headers[1], (header{"host", "stomp.github.org"}));
  EXPECT_EQ(f.body, "");
}

TEST(DecoderSpecExamples, StompWithHeartBeat) {
  const frame f = decode_one("STOMP\naccept-version:1.1\nhost:stomp.github.org\nheart-beat:0,1000\n\n\0"_b);
  EXPECT_EQ(f.cmd, command::stomp);
  EXPECT_EQ(f.get("heart-beat"), "0,1000");
}

TEST(DecoderSpecExamples, Connected) {
  const frame f = decode_one("CONNECTED\nversion:1.2\n\n\0"_b);
  EXPECT_EQ(f.cmd, command::connected);
  EXPECT_EQ(f.get("version"), "1.2");
}

TEST(DecoderSpecExamples, SendWithBody) {
  const frame f = decode_one("SEND\ndestination:/queue/a\ncontent-type:text/plain\n\nhello queue a\n\0"_b);
  EXPECT_EQ(f.cmd, command::send);
  EXPECT_EQ(f.get("destination"), "/queue/a");
  EXPECT_EQ(f.get("content-type"), "text/plain");
  EXPECT_EQ(f.body, "hello queue a\n");
}

TEST(DecoderSpecExamples, SubscribeUnsubscribeAckNack) {
  const decoded d = decode_any_split(
      "SUBSCRIBE\nid:0\ndestination:/queue/foo\nack:client\n\n\0"
      "UNSUBSCRIBE\nid:0\n\n\0"
      "ACK\nid:12345\ntransaction:tx1\n\n\0"
      "NACK\nid:12345\n\n\0"_b);
  ASSERT_FALSE(d.error);
  const auto frames = d.frames();
  ASSERT_EQ(frames.size(), 4u);
  EXPECT_EQ(frames[0].cmd, command::subscribe);
  EXPECT_EQ(frames[0].get("ack"), "client");
  EXPECT_EQ(frames[1].cmd, command::unsubscribe);
  EXPECT_EQ(frames[2].cmd, command::ack);
  EXPECT_EQ(frames[2].get("transaction"), "tx1");
  EXPECT_EQ(frames[3].cmd, command::nack);
}

TEST(DecoderSpecExamples, TransactionFrames) {
  const decoded d = decode_any_split(
      "BEGIN\ntransaction:tx1\n\n\0"
      "SEND\ndestination:/queue/a\ntransaction:tx1\ncontent-type:text/plain\n\nhello queue a\0"
      "COMMIT\ntransaction:tx1\n\n\0"
      "ABORT\ntransaction:tx1\n\n\0"_b);
  ASSERT_FALSE(d.error);
  const auto frames = d.frames();
  ASSERT_EQ(frames.size(), 4u);
  EXPECT_EQ(frames[0].cmd, command::begin);
  EXPECT_EQ(frames[1].body, "hello queue a");
  EXPECT_EQ(frames[2].cmd, command::commit);
  EXPECT_EQ(frames[3].cmd, command::abort);
}

TEST(DecoderSpecExamples, DisconnectAndReceipt) {
  const decoded d = decode_any_split("DISCONNECT\nreceipt:77\n\n\0RECEIPT\nreceipt-id:77\n\n\0"_b);
  ASSERT_FALSE(d.error);
  const auto frames = d.frames();
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_EQ(frames[0].cmd, command::disconnect);
  EXPECT_EQ(frames[0].get("receipt"), "77");
  EXPECT_EQ(frames[1].cmd, command::receipt);
  EXPECT_EQ(frames[1].get("receipt-id"), "77");
}

TEST(DecoderSpecExamples, Message) {
  const frame f = decode_one(
      "MESSAGE\nsubscription:0\nmessage-id:007\ndestination:/queue/a\n"
      "content-type:text/plain\n\nhello queue a\0"_b);
  EXPECT_EQ(f.cmd, command::message);
  EXPECT_EQ(f.get("message-id"), "007");
  EXPECT_EQ(f.body, "hello queue a");
}

TEST(DecoderSpecExamples, ErrorWithContentLength) {
  const std::string body =
      "The message:\n-----\nMESSAGE\ndestined:/queue/a\nreceipt:message-12345\n\n"
      "Hello queue a!\n-----\nDid not contain a destination header, which is REQUIRED\n"
      "for message propagation.\n";
  const std::string wire =
      "ERROR\nreceipt-id:message-12345\ncontent-type:text/plain\n"
      "content-length:" +
      std::to_string(body.size()) + "\nmessage:malformed frame received\n\n" + body + "\0"_b;
  const frame f = decode_one(wire);
  EXPECT_EQ(f.cmd, command::error);
  EXPECT_EQ(f.get("message"), "malformed frame received");
  EXPECT_EQ(f.body, body);
}

TEST(DecoderSpecExamples, RepeatedHeaderFirstWins) {
  // Spec §Repeated Header Entries: "MESSAGE foo:World foo:Hello" -> foo is World.
  const frame f = decode_one("MESSAGE\nfoo:World\nfoo:Hello\n\n\0"_b);
  EXPECT_EQ(f.get("foo"), "World");
  ASSERT_EQ(f.headers.size(), 2u);  // both kept, in order
  EXPECT_EQ(f.headers[1].value, "Hello");
}

// ---- Header syntax ----------------------------------------------------------------------

TEST(DecoderHeaders, SplitAtFirstColonAndEmptyValue) {
  const frame f = decode_one("SEND\nurl:http://example.com:80/x\nempty:\n\n\0"_b);
  EXPECT_EQ(f.get("url"), "http://example.com:80/x");
  EXPECT_EQ(f.get("empty"), "");
  EXPECT_EQ(f.get("missing"), std::nullopt);
}

TEST(DecoderHeaders, SpacesArePartOfNamesAndValues) {
  const frame f = decode_one("SEND\n name : value \n\n\0"_b);
  ASSERT_EQ(f.headers.size(), 1u);
  EXPECT_EQ(f.headers[0], (header{" name ", " value "}));
}

TEST(DecoderHeaders, Utf8InHeadersAndCommandOnlyAscii) {
  const frame f = decode_one("SEND\ndestination:/topic/caf\xC3\xA9\nnick:\xF0\x9F\x98\x80\n\n\0"_b);
  EXPECT_EQ(f.get("destination"), "/topic/caf\xC3\xA9");
  EXPECT_EQ(f.get("nick"), "\xF0\x9F\x98\x80");
}

TEST(DecoderHeaders, EveryEscapeIsDecoded) {
  const frame f = decode_one("SEND\na\\cb:1\\c2\ncr:x\\ry\nlf:x\\ny\nbs:x\\\\y\nall:\\\\\\n\\r\\c\n\n\0"_b);
  EXPECT_EQ(f.get("a:b"), "1:2");
  EXPECT_EQ(f.get("cr"), "x\ry");
  EXPECT_EQ(f.get("lf"), "x\ny");
  EXPECT_EQ(f.get("bs"), "x\\y");
  EXPECT_EQ(f.get("all"), "\\\n\r:");
}

TEST(DecoderHeaders, EscapedColonDoesNotSplit) {
  const frame f = decode_one("MESSAGE\nk\\ce\\cy:v:w\n\n\0"_b);
  ASSERT_EQ(f.headers.size(), 1u);
  EXPECT_EQ(f.headers[0], (header{"k:e:y", "v:w"}));
}

TEST(DecoderHeaders, ConnectStompConnectedAreNotUnescaped) {
  for (const std::string cmd : {"CONNECT", "STOMP", "CONNECTED"}) {
    SCOPED_TRACE(cmd);
    // "\t" would be a bad escape in any other frame.
    const frame f = decode_one(cmd + "\nlogin:dom\\user\npasscode:a\\cb\\nc\\t\n\n\0"_b);
    EXPECT_EQ(f.get("login"), "dom\\user");
    EXPECT_EQ(f.get("passcode"), "a\\cb\\nc\\t");
  }
}

TEST(DecoderHeaders, OtherFramesAreUnescaped) {
  for (const std::string cmd : {"SEND", "SUBSCRIBE", "MESSAGE", "ERROR", "RECEIPT", "ACK"}) {
    SCOPED_TRACE(cmd);
    EXPECT_EQ(decode_one(cmd + "\nk:a\\cb\n\n\0"_b).get("k"), "a:b");
  }
}

TEST(DecoderHeaders, EscapingOffTakesEveryHeaderLiterally) {
  decode_config cfg;
  cfg.escaping = false;
  const frame f = decode_one("SEND\ndestination:/q\\c\\t\\\n\n\0"_b, cfg);
  EXPECT_EQ(f.get("destination"), "/q\\c\\t\\");
}

TEST(DecoderHeaders, ContentLengthNameIsCaseSensitive) {
  // Header names are case-sensitive: this is not a content-length, the body runs to NUL.
  const frame f = decode_one("SEND\nContent-Length:1\n\nab\0"_b);
  EXPECT_EQ(f.get("Content-Length"), "1");
  EXPECT_EQ(f.body, "ab");
}

// ---- Line endings and heart-beats -------------------------------------------------------

TEST(DecoderLines, CrLfAndLfGiveTheSameFrame) {
  const frame lf = decode_one("SEND\ndestination:/a\nx:y\n\nbody\0"_b);
  const frame crlf = decode_one("SEND\r\ndestination:/a\r\nx:y\r\n\r\nbody\0"_b);
  const frame mixed = decode_one("SEND\r\ndestination:/a\nx:y\r\n\nbody\0"_b);
  EXPECT_EQ(lf, crlf);
  EXPECT_EQ(lf, mixed);
  EXPECT_EQ(lf.get("x"), "y");  // no CR left on values
}

TEST(DecoderLines, CrLfInBodyIsKept) { EXPECT_EQ(decode_one("SEND\r\n\r\na\r\nb\r\0"_b).body, "a\r\nb\r"); }

TEST(DecoderLines, HeartBeatsBetweenFrames) {
  const decoded d = decode_any_split("\n\r\nSEND\n\n\0\n\n\r\n\nSEND\n\na\0\r\n"_b);
  ASSERT_FALSE(d.error);
  ASSERT_EQ(d.events.size(), 2u + 2u + 4u + 1u);
  EXPECT_FALSE(d.events[0]);
  EXPECT_FALSE(d.events[1]);
  ASSERT_TRUE(d.events[2]);
  EXPECT_EQ(d.events[2]->cmd, command::send);
  for (int i = 3; i < 7; ++i) EXPECT_FALSE(d.events[i]) << i;
  ASSERT_TRUE(d.events[7]);
  EXPECT_EQ(d.events[7]->body, "a");
  EXPECT_FALSE(d.events[8]);
}

TEST(DecoderLines, HeartBeatsOnly) {
  decoder d;
  int beats = 0;
  int frames = 0;
  for (int i = 0; i < 1000; ++i) {
    EXPECT_FALSE(d.feed(
        "\n", [&](frame&&) { ++frames; }, [&] { ++beats; }));
    EXPECT_FALSE(d.feed(
        "\r", [&](frame&&) { ++frames; }, [&] { ++beats; }));
    EXPECT_FALSE(d.feed(
        "\n", [&](frame&&) { ++frames; }, [&] { ++beats; }));
  }
  EXPECT_EQ(beats, 2000);
  EXPECT_EQ(frames, 0);
  EXPECT_EQ(d.buffered_bytes(), 0u);
}

TEST(DecoderLines, PartialFrameIsNotDelivered) {
  decoder d;
  int frames = 0;
  EXPECT_FALSE(d.feed(
      "SEND\ndestination:/a\n\nhel", [&](frame&&) { ++frames; }, [] {}));
  EXPECT_EQ(frames, 0);
  EXPECT_FALSE(d.feed(
      "lo"_b + "\0"_b,
      [&](frame&& f) {
        ++frames;
        EXPECT_EQ(f.body, "hello");
      },
      [] {}));
  EXPECT_EQ(frames, 1);
}

// ---- Bodies -----------------------------------------------------------------------------

TEST(DecoderBody, ContentLengthBodyMayContainNuls) {
  const std::string body = "a\0b\0\0c\n\0"_b;
  const frame f = decode_one("SEND\ncontent-length:8\n\n"_b + body + "\0"_b);
  EXPECT_EQ(f.body, body);
  EXPECT_EQ(f.body.size(), 8u);
}

TEST(DecoderBody, ContentLengthZero) {
  const decoded d = decode_any_split("SEND\ncontent-length:0\n\n\0SEND\n\nx\0"_b);
  ASSERT_FALSE(d.error);
  ASSERT_EQ(d.frames().size(), 2u);
  EXPECT_EQ(d.frames()[0].body, "");
  EXPECT_EQ(d.frames()[1].body, "x");
}

TEST(DecoderBody, BinaryBodyIsOpaque) {
  std::string body;
  for (int i = 1; i < 256; ++i) body.push_back(static_cast<char>(i));  // invalid UTF-8 too
  EXPECT_EQ(decode_one("SEND\n\n" + body + "\0"_b).body, body);
  body.push_back('\0');
  EXPECT_EQ(decode_one("SEND\ncontent-length:256\n\n" + body + "\0"_b).body, body);
}

TEST(DecoderBody, FirstContentLengthWins) {
  const frame f = decode_one("SEND\ncontent-length:2\ncontent-length:5\n\nab\0"_b);
  EXPECT_EQ(f.body, "ab");
  // A later repeat is ignored even when it is not a number.
  EXPECT_EQ(decode_one("SEND\ncontent-length:1\ncontent-length:x\n\na\0"_b).body, "a");
}

TEST(DecoderBody, LargeChunkWithManyFrames) {
  std::string wire;
  for (int i = 0; i < 1000; ++i) {
    wire += "SEND\ndestination:/topic/room." + std::to_string(i) + "\ncontent-length:5\n\nhello"_b + "\0\n"_b;
  }
  decoder d;
  int frames = 0;
  int beats = 0;
  ASSERT_FALSE(d.feed(
      wire,
      [&](frame&& f) {
        EXPECT_EQ(f.get("destination"), "/topic/room." + std::to_string(frames));
        EXPECT_EQ(f.body, "hello");
        ++frames;
      },
      [&] { ++beats; }));
  EXPECT_EQ(frames, 1000);
  EXPECT_EQ(beats, 1000);
  EXPECT_EQ(d.buffered_bytes(), 0u);
}

// ---- Errors -----------------------------------------------------------------------------

TEST(DecoderErrors, UnknownCommand) {
  EXPECT_EQ(decode_error("send\n\n\0"_b), errc::unknown_command);
  EXPECT_EQ(decode_error("SEND \n\n\0"_b), errc::unknown_command);
  EXPECT_EQ(decode_error("GET / HTTP/1.1\r\nHost: x\r\n\r\n"), errc::unknown_command);
  EXPECT_EQ(decode_error("\nFOO\n\n\0"_b), errc::unknown_command);
}

TEST(DecoderErrors, OverlongCommandLineFailsBeforeItsEnd) {
  // No LF ever comes: the decoder must not wait for one.
  decoder d;
  const std::string garbage(100, 'A');
  EXPECT_EQ(d.feed(
                garbage, [](frame&&) {}, [] {}),
            errc::unknown_command);
}

TEST(DecoderErrors, MalformedHeader) {
  EXPECT_EQ(decode_error("SEND\nno-colon\n\n\0"_b), errc::malformed_header);
  EXPECT_EQ(decode_error("SEND\n:empty-name\n\n\0"_b), errc::malformed_header);
  EXPECT_EQ(decode_error("CONNECT\n:x\n\n\0"_b), errc::malformed_header);
}

TEST(DecoderErrors, BadEscape) {
  EXPECT_EQ(decode_error("SEND\nk:a\\tb\n\n\0"_b), errc::bad_escape);
  EXPECT_EQ(decode_error("SEND\nk:trailing\\\n\n\0"_b), errc::bad_escape);
  EXPECT_EQ(decode_error("SEND\nk\\x:v\n\n\0"_b), errc::bad_escape);
  EXPECT_EQ(decode_error("MESSAGE\nk:\\C\n\n\0"_b), errc::bad_escape);  // case matters
}

TEST(DecoderErrors, BadUtf8) {
  EXPECT_EQ(decode_error("SEND\ndestination:/a\xFF\n\n\0"_b), errc::bad_utf8);
  EXPECT_EQ(decode_error("SEND\nk\xC3:v\n\n\0"_b), errc::bad_utf8);         // truncated
  EXPECT_EQ(decode_error("SEND\nk:\xED\xA0\x80\n\n\0"_b), errc::bad_utf8);  // surrogate
  EXPECT_EQ(decode_error("CONNECT\nlogin:\xC0\xAF\n\n\0"_b), errc::bad_utf8);
  EXPECT_EQ(decode_error("SEN\xC3\n\n\0"_b), errc::bad_utf8);
}

TEST(DecoderErrors, BadContentLength) {
  EXPECT_EQ(decode_error("SEND\ncontent-length:abc\n\n\0"_b), errc::bad_content_length);
  EXPECT_EQ(decode_error("SEND\ncontent-length:\n\n\0"_b), errc::bad_content_length);
  EXPECT_EQ(decode_error("SEND\ncontent-length:-1\n\n\0"_b), errc::bad_content_length);
  EXPECT_EQ(decode_error("SEND\ncontent-length:+1\n\n\0"_b), errc::bad_content_length);
  EXPECT_EQ(decode_error("SEND\ncontent-length: 1\n\nx\0"_b), errc::bad_content_length);
  EXPECT_EQ(decode_error("SEND\ncontent-length:1 \n\nx\0"_b), errc::bad_content_length);
  EXPECT_EQ(decode_error("SEND\ncontent-length:1x\n\nx\0"_b), errc::bad_content_length);
  EXPECT_EQ(decode_error("SEND\ncontent-length:0x10\n\nx\0"_b), errc::bad_content_length);
  EXPECT_EQ(decode_error("SEND\ncontent-length:99999999999999999999999\n\n\0"_b), errc::bad_content_length);
  // Larger than the frame limit: refused at once, before any body octet.
  EXPECT_EQ(decode_error("SEND\ncontent-length:65537\n\n"), errc::bad_content_length);
}

TEST(DecoderErrors, ContentLengthBeyondWhatIsLeftOfTheFrame) {
  decode_config cfg;
  cfg.lim.max_frame_bytes = 100;
  // 24 header octets + 80 > 100 although 80 alone is below the limit.
  EXPECT_EQ(decode_error("SEND\ncontent-length:80\n\n", cfg), errc::frame_too_large);
  // Exactly at the limit: 24 + 76 = 100.
  EXPECT_FALSE(decode_error("SEND\ncontent-length:76\n\n"_b + std::string(76, 'x') + "\0"_b, cfg));
  EXPECT_EQ(decode_error("SEND\ncontent-length:77\n\n", cfg), errc::frame_too_large);
}

TEST(DecoderErrors, ContentLengthLie) {
  // Announced 3, sent 5: the octet after the 3 is not NUL.
  EXPECT_EQ(decode_error("SEND\ncontent-length:3\n\nhello\0"_b), errc::missing_nul);
  // Announced 5, sent 3 then the next frame: swallowed as body, then no NUL.
  EXPECT_EQ(decode_error("SEND\ncontent-length:5\n\nhey\0SEND\n\n\0"_b), errc::missing_nul);
}

TEST(DecoderErrors, CrWithoutLf) {
  EXPECT_EQ(decode_error("SEND\rx\n\n\0"_b), errc::bad_line_ending);
  EXPECT_EQ(decode_error("SEND\nk:v\rw\n\n\0"_b), errc::bad_line_ending);
  EXPECT_EQ(decode_error("SEND\nk:v\r\r\n\n\0"_b), errc::bad_line_ending);
  EXPECT_EQ(decode_error("\r\r\n"), errc::bad_line_ending);
  EXPECT_EQ(decode_error("SEND\n\r\0"_b), errc::bad_line_ending);
}

TEST(DecoderErrors, NulInCommandOrHeaders) {
  EXPECT_EQ(decode_error("\0"_b), errc::unexpected_nul);
  EXPECT_EQ(decode_error("SEND\0"_b), errc::unexpected_nul);
  EXPECT_EQ(decode_error("SEND\nk:v\0"_b), errc::unexpected_nul);  // blank line forgotten
}

TEST(DecoderErrors, TooManyHeaders) {
  decode_config cfg;
  cfg.lim.max_headers = 3;
  EXPECT_FALSE(decode_error("SEND\na:1\nb:2\nc:3\n\n\0"_b, cfg));
  EXPECT_EQ(decode_error("SEND\na:1\nb:2\nc:3\nd:4\n\n\0"_b, cfg), errc::too_many_headers);

  std::string wire = "SEND\n";
  for (int i = 0; i < 51; ++i) wire += "h" + std::to_string(i) + ":v\n";
  EXPECT_EQ(decode_error(wire + "\n\0"_b), errc::too_many_headers);  // default limit 50
}

TEST(DecoderErrors, HeaderLineTooLong) {
  const std::string at_limit = "k:" + std::string(8 * 1024 - 2, 'v');
  EXPECT_FALSE(decode_error("SEND\n" + at_limit + "\r\n\n\0"_b));  // CR is not counted
  EXPECT_EQ(decode_error("SEND\n" + at_limit + "v\n\n\0"_b), errc::header_line_too_long);

  // Without a line end: refused once the limit is passed, not at the end of the stream.
  decoder d;
  EXPECT_FALSE(d.feed(
      "SEND\n" + at_limit, [](frame&&) {}, [] {}));
  EXPECT_EQ(d.feed(
                "v", [](frame&&) {}, [] {}),
            errc::header_line_too_long);
}

TEST(DecoderErrors, FrameTooLargeCountsCommandHeadersAndBody) {
  decode_config cfg;
  cfg.lim.max_frame_bytes = 20;
  // "SEND\n" 5 + "k:v\n" 4 + "\n" 1 + body 10 = 20: at the limit.
  EXPECT_FALSE(decode_error("SEND\nk:v\n\n0123456789\0"_b, cfg));
  // 5 + 4 + 17 + 1 = 27 octets with content-length 0.
  EXPECT_FALSE(decode_error("SEND\nk:v\ncontent-length:0\n\n\0"_b, {.lim = {.max_frame_bytes = 27}}));
  EXPECT_EQ(decode_error("SEND\nk:v\ncontent-length:0\n\n\0"_b, {.lim = {.max_frame_bytes = 26}}),
            errc::frame_too_large);
  EXPECT_EQ(decode_error("SEND\nk:v\n\n0123456789A\0"_b, cfg), errc::frame_too_large);
  EXPECT_EQ(decode_error("SEND\nk:vv\n\n0123456789\0"_b, cfg), errc::frame_too_large);
  EXPECT_EQ(decode_error("SEND\nkkkkkkkkkkkkkkkkkkkkkkkk:v\n\n\0"_b, cfg), errc::frame_too_large);
  EXPECT_EQ(decode_error("SEND\r\nk:v\r\n\r\n0123456789\0"_b, cfg), errc::frame_too_large);
  // Heart-beats before the frame do not count.
  EXPECT_FALSE(decode_error("\n\n\n\n\n\n\n\n\n\n\n\nSEND\nk:v\n\n0123456789\0"_b, cfg));
}

TEST(DecoderErrors, MegabyteWithoutNulIsRefusedWithBoundedBuffering) {
  const limits lim{};
  decoder d(lim);
  int frames = 0;
  ASSERT_FALSE(d.feed(
      "SEND\ndestination:/topic/room.1\n\n", [&](frame&&) { ++frames; }, [] {}));
  const std::string chunk(1024, 'x');
  std::error_code ec;
  std::size_t sent = 0;
  std::size_t peak = 0;
  while (sent < 1024 * 1024 && !ec) {
    ec = d.feed(
        chunk, [&](frame&&) { ++frames; }, [] {});
    sent += chunk.size();
    peak = std::max(peak, d.buffered_bytes());
  }
  EXPECT_EQ(ec, errc::frame_too_large);
  EXPECT_LE(sent, lim.max_frame_bytes + chunk.size()) << "refused only after " << sent;
  EXPECT_LE(peak, lim.max_frame_bytes);
  EXPECT_EQ(frames, 0);
  EXPECT_EQ(d.buffered_bytes(), 0u) << "a failed decoder releases the partial frame";
}

TEST(DecoderErrors, MegabyteInOneChunkIsRefused) {
  decoder d;
  const std::string wire = "SEND\n\n" + std::string(1024 * 1024, 'x');
  EXPECT_EQ(d.feed(
                wire, [](frame&&) {}, [] {}),
            errc::frame_too_large);
}

TEST(DecoderErrors, ErrorIsStickyUntilReset) {
  decoder d;
  int frames = 0;
  const auto on_frame = [&](frame&&) { ++frames; };
  const auto on_beat = [] {};
  EXPECT_FALSE(d.failed());
  EXPECT_EQ(d.feed("SEND\n\n\0BOGUS\n"_b, on_frame, on_beat), errc::unknown_command);
  EXPECT_EQ(frames, 1);  // frames before the error are delivered
  EXPECT_TRUE(d.failed());
  EXPECT_EQ(d.error(), errc::unknown_command);
  EXPECT_EQ(d.feed("SEND\n\n\0"_b, on_frame, on_beat), errc::unknown_command);
  EXPECT_EQ(d.feed("", on_frame, on_beat), errc::unknown_command);
  EXPECT_EQ(frames, 1);

  d.reset();
  EXPECT_FALSE(d.failed());
  EXPECT_FALSE(d.feed("SEND\n\n\0"_b, on_frame, on_beat));
  EXPECT_EQ(frames, 2);
}

TEST(DecoderErrors, ResetDropsPartialFrameAndKeepsSettings) {
  decoder d;
  d.set_escaping(false);
  std::vector<frame> frames;
  const auto on_frame = [&](frame&& f) { frames.push_back(std::move(f)); };
  EXPECT_FALSE(d.feed("SEND\nk:half", on_frame, [] {}));
  d.reset();
  EXPECT_EQ(d.buffered_bytes(), 0u);
  EXPECT_FALSE(d.feed("SEND\nk:\\t\n\n\0"_b, on_frame, [] {}));
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].get("k"), "\\t");
}

TEST(DecoderErrors, FirstErrorInStreamOrderWins) {
  // Bad UTF-8 in an earlier header than a bad escape; bad escape before a too-long line.
  EXPECT_EQ(decode_error("SEND\na:\xFF\nb:\\t\n\n\0"_b), errc::bad_utf8);
  EXPECT_EQ(decode_error("SEND\nb:\\t\na:\xFF\n\n\0"_b), errc::bad_escape);
  decode_config cfg;
  cfg.lim.max_header_line = 4;
  EXPECT_EQ(decode_error("SEND\nb:\\t\nabcdefgh:v\n\n\0"_b, cfg), errc::bad_escape);
  EXPECT_EQ(decode_error("SEND\nabcdefgh\xFF:v\n\n\0"_b, cfg), errc::header_line_too_long);
}

TEST(DecoderErrors, CallbackMayKeepTheFrame) {
  // The frame handed out owns its data: it stays valid after the input buffer is gone.
  decoder d;
  std::vector<frame> kept;
  {
    std::string wire = "SEND\nk:v\n\nbody\0"_b;
    ASSERT_FALSE(d.feed(
        wire, [&](frame&& f) { kept.push_back(std::move(f)); }, [] {}));
    wire.assign(wire.size(), '#');
  }
  ASSERT_EQ(kept.size(), 1u);
  EXPECT_EQ(kept[0].get("k"), "v");
  EXPECT_EQ(kept[0].body, "body");
}

TEST(DecoderErrors, ThrowingCallbackLeavesDecoderUsable) {
  decoder d;
  std::vector<frame> frames;
  int beats = 0;
  const auto on_frame = [&](frame&& f) { frames.push_back(std::move(f)); };
  EXPECT_THROW(d.feed("\r\nSEND\n\n\0"_b, on_frame, [] { throw std::runtime_error("beat"); }), std::runtime_error);
  EXPECT_FALSE(d.failed());
  EXPECT_TRUE(frames.empty());  // the rest of the chunk was not consumed
  EXPECT_FALSE(d.feed("SEND\nk:v\n\n\0\n"_b, on_frame, [&] { ++beats; }));
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].get("k"), "v");
  EXPECT_EQ(beats, 1);

  EXPECT_THROW(d.feed(
                   "SEND\n\nx\0"_b, [](frame&&) { throw std::runtime_error("frame"); }, [] {}),
               std::runtime_error);
  EXPECT_FALSE(d.feed("SEND\n\ny\0"_b, on_frame, [] {}));
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_EQ(frames[1].body, "y");
}

TEST(DecoderErrors, MessagesAreFitForAnErrorFrame) {
  for (int v = static_cast<int>(errc::frame_too_large); v <= static_cast<int>(errc::unexpected_nul); ++v) {
    const std::error_code ec = static_cast<errc>(v);
    SCOPED_TRACE(v);
    EXPECT_EQ(ec.category().name(), std::string("chat.stomp"));
    const std::string m = ec.message();
    EXPECT_FALSE(m.empty());
    EXPECT_EQ(m.find_first_of(":\r\n"), std::string::npos) << m;
    EXPECT_EQ(m.find("unknown STOMP error"), std::string::npos) << m;
    EXPECT_NE(m, std::error_code(static_cast<errc>(v + 1)).message());
  }
  EXPECT_NE(std::error_code(errc::bad_escape), std::errc::invalid_argument);
}

}  // namespace
}  // namespace chat::stomp
