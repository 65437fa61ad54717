// The frames chatd's gateway and the client library send, as frame_writer writes them. The
// expected octets are what the gateway and the client wrote by hand before they shared the
// writer: any change here changes the wire.
#include "decode_util.hpp"

#include <chat/stomp/encoder.hpp>

#include <gtest/gtest.h>

#include <string>

namespace chat::stomp {
namespace {

using test::operator""_b;

// ---- client frames ----------------------------------------------------------------------

TEST(FrameWriter, ClientConnectIsNeverEscaped) {
  std::string out;
  frame_writer(out, command::connect)
      .header("accept-version", "1.0,1.1,1.2")
      .header("host", "localhost")
      .header("heart-beat", "10000,10000")
      .header("Authorization", "Bearer a.b:c")
      .header("login", "x:y")
      .header("passcode", "p\\q")
      .finish();
  EXPECT_EQ(out,
            "CONNECT\naccept-version:1.0,1.1,1.2\nhost:localhost\nheart-beat:10000,10000\n"
            "Authorization:Bearer a.b:c\nlogin:x:y\npasscode:p\\q\n\n\0"_b);
}

TEST(FrameWriter, StompFrameIsNeverEscaped) {
  std::string out;
  frame_writer(out, command::stomp, {.escape = true}).header("login", "a:b\\c").finish();
  EXPECT_EQ(out, "STOMP\nlogin:a:b\\c\n\n\0"_b);
}

TEST(FrameWriter, ClientSendEscapesNamesAndValuesAndCountsTheBody) {
  std::string out;
  frame_writer(out, command::send)
      .header("destination", "/app/chat.send")
      .header("x:y", "a:b\nc\rd\\e")
      .header("receipt", "r:1")
      .content_length(2)
      .finish("hi");
  EXPECT_EQ(out,
            "SEND\ndestination:/app/chat.send\nx\\cy:a\\cb\\nc\\rd\\\\e\nreceipt:r\\c1\ncontent-length:2\n\nhi\0"_b);
}

TEST(FrameWriter, ClientSendWithEmptyBodyStillSaysContentLengthZero) {
  std::string out;
  frame_writer(out, command::send).header("destination", "/a").content_length(0).finish("");
  EXPECT_EQ(out, "SEND\ndestination:/a\ncontent-length:0\n\n\0"_b);
}

TEST(FrameWriter, Stomp10SessionWritesHeadersLiterally) {
  std::string out;
  frame_writer(out, command::send, {.escape = false})
      .header("destination", "/q:a\\b")
      .content_length(3)
      .finish("a\0b"_b);
  EXPECT_EQ(out, "SEND\ndestination:/q:a\\b\ncontent-length:3\n\na\0b\0"_b);
}

TEST(FrameWriter, ClientSubscribeUnsubscribeAckDisconnect) {
  std::string out;
  frame_writer(out, command::subscribe)
      .header("destination", "/topic/room.5")
      .header("id", "sub-0")
      .header("ack", "auto")
      .header("receipt", "r1")
      .finish();
  frame_writer(out, command::unsubscribe).header("id", "sub-0").finish();
  frame_writer(out, command::ack).header("id", "m:1").finish();
  frame_writer(out, command::disconnect).header("receipt", "bye").finish();
  EXPECT_EQ(out,
            "SUBSCRIBE\ndestination:/topic/room.5\nid:sub-0\nack:auto\nreceipt:r1\n\n\0"
            "UNSUBSCRIBE\nid:sub-0\n\n\0"
            "ACK\nid:m\\c1\n\n\0"
            "DISCONNECT\nreceipt:bye\n\n\0"_b);
}

// ---- gateway frames ---------------------------------------------------------------------

TEST(FrameWriter, FanoutMessageIsAPerSessionHeadPlusASharedTail) {
  std::string tail;
  frame_writer::continuation(tail, {.escape = false})
      .header("destination", "/topic/room.7")
      .header("content-type", "application/json")
      .content_length(8)
      .finish(R"({"a":1})"
              "\n");
  EXPECT_EQ(tail, "destination:/topic/room.7\ncontent-type:application/json\ncontent-length:8\n\n{\"a\":1}\n\0"_b);

  std::string head;
  frame_writer(head, command::message).header("subscription", "s:1").header("message-id", "42").header("ack", "42");
  EXPECT_EQ(head + tail,
            "MESSAGE\nsubscription:s\\c1\nmessage-id:42\nack:42\n"
            "destination:/topic/room.7\ncontent-type:application/json\ncontent-length:8\n\n{\"a\":1}\n\0"_b);

  std::string head10;
  frame_writer(head10, command::message, {.escape = false}).header("subscription", "s:1").header("message-id", "42");
  EXPECT_EQ(head10, "MESSAGE\nsubscription:s:1\nmessage-id:42\n");
}

TEST(FrameWriter, ContinuationEscapesWhenAsked) {
  std::string out;
  frame_writer::continuation(out).header("receipt-id", "a\\b").finish();
  EXPECT_EQ(out, "receipt-id:a\\\\b\n\n\0"_b);
}

TEST(FrameWriter, GatewayConnectedIsNeverEscaped) {
  const frame connected{command::connected,
                        {{"version", "1.2"},
                         {"heart-beat", "10000,10000"},
                         {"server", "chatd/1:x\\y"},
                         {"session", "node:a-1"},
                         {"user-name", "7"}},
                        ""};
  EXPECT_EQ(
      encode(connected),
      "CONNECTED\nversion:1.2\nheart-beat:10000,10000\nserver:chatd/1:x\\y\nsession:node:a-1\nuser-name:7\n\n\0"_b);
}

TEST(FrameWriter, GatewayReceiptAndErrorAsEncoded) {
  EXPECT_EQ(encode(frame{command::receipt, {{"receipt-id", "r:1\n"}}, ""}), "RECEIPT\nreceipt-id:r\\c1\\n\n\n\0"_b);
  EXPECT_EQ(encode(frame{command::receipt, {{"receipt-id", "r:1"}}, ""}, {.escape = false}),
            "RECEIPT\nreceipt-id:r:1\n\n\0"_b);
  const frame error{command::error,
                    {{"message", "forbidden"}, {"receipt-id", "x"}, {"content-type", "text/plain"}},
                    "not a member of room 3"};
  EXPECT_EQ(encode(error),
            "ERROR\nmessage:forbidden\nreceipt-id:x\ncontent-type:text/plain\ncontent-length:22\n\n"
            "not a member of room 3\0"_b);
}

TEST(FrameWriter, AppendsBehindWhatTheBufferHolds) {
  std::string out = "x";
  frame_writer(out, command::receipt).header("receipt-id", "1").finish();
  encode_heartbeat(out);
  EXPECT_EQ(out, "xRECEIPT\nreceipt-id:1\n\n\0\n"_b);
}

}  // namespace
}  // namespace chat::stomp
