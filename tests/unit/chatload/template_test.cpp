#include "runner.hpp"

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
