#include "destinations.hpp"

#include <gtest/gtest.h>

using chatload::expand_template;

TEST(DestinationTemplate, ExpandsRoomAndUser) {
  EXPECT_EQ(expand_template("/topic/room.{room}", "42", "7"), "/topic/room.42");
  EXPECT_EQ(expand_template("/queue/u{user}.r{room}.{room}", "3", "9"), "/queue/u9.r3.3");
  EXPECT_EQ(expand_template("user-{user}", "", "0"), "user-0");
  // Anything else is kept as written, unknown placeholders included.
  EXPECT_EQ(expand_template("/exchange/amq.topic/{other}", "1", "2"), "/exchange/amq.topic/{other}");
  EXPECT_EQ(expand_template("{room", "1", "2"), "{room");
  EXPECT_EQ(expand_template("", "1", "2"), "");
}

TEST(StompDialect, ChatdUsesTheProtocolsDestinationsAndJsonBody) {
  const auto d = chatload::stomp_dialect::chatd();
  EXPECT_EQ(d.subscribe_destination(42, 7), "/topic/room.42");
  EXPECT_EQ(d.send_destination(42, 7), "");
  EXPECT_EQ(chatload::chatd_send_destination(), "/app/chat.send");
  ASSERT_TRUE(d.error_queue());
  EXPECT_EQ(*d.error_queue(), "/user/queue/errors");
  std::string scratch = "left over";
  EXPECT_EQ(d.send_body(scratch, "CL1.abc", 42, "key-1"), R"({"roomId":42,"content":"CL1.abc","messageKey":"key-1"})");
  EXPECT_EQ(chatload::room_destination_template(), "/topic/room.{room}");
}

TEST(StompDialect, GenericExpandsTheTemplatesAndSendsThePayloadAsIs) {
  const auto d = chatload::stomp_dialect::generic("/queue/r{room}.u{user}", "/topic/r{room}");
  EXPECT_EQ(d.subscribe_destination(3, 9), "/topic/r3");
  EXPECT_EQ(d.send_destination(3, 9), "/queue/r3.u9");
  EXPECT_FALSE(d.error_queue());
  std::string scratch;
  EXPECT_EQ(d.send_body(scratch, "CL1.abc", 3, "ignored"), "CL1.abc");
  EXPECT_TRUE(scratch.empty());
}
