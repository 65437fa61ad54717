#include <chat/stomp/frame.hpp>

#include <gtest/gtest.h>

namespace chat::stomp {
namespace {

TEST(Command, SpellingsRoundTrip) {
  const std::pair<command, std::string_view> table[] = {
      {command::connect, "CONNECT"}, {command::stomp, "STOMP"},         {command::connected, "CONNECTED"},
      {command::send, "SEND"},       {command::subscribe, "SUBSCRIBE"}, {command::unsubscribe, "UNSUBSCRIBE"},
      {command::ack, "ACK"},         {command::nack, "NACK"},           {command::begin, "BEGIN"},
      {command::commit, "COMMIT"},   {command::abort, "ABORT"},         {command::disconnect, "DISCONNECT"},
      {command::message, "MESSAGE"}, {command::receipt, "RECEIPT"},     {command::error, "ERROR"},
  };
  for (const auto& [cmd, text] : table) {
    EXPECT_EQ(to_string(cmd), text);
    EXPECT_EQ(parse_command(text), cmd) << text;
  }
}

TEST(Command, ParseIsStrict) {
  EXPECT_EQ(parse_command("send"), std::nullopt);
  EXPECT_EQ(parse_command("Send"), std::nullopt);
  EXPECT_EQ(parse_command(" SEND"), std::nullopt);
  EXPECT_EQ(parse_command("SEND\r"), std::nullopt);
  EXPECT_EQ(parse_command(""), std::nullopt);
  EXPECT_EQ(parse_command("UNKNOWN"), std::nullopt);
}

TEST(Command, EscapeExemption) {
  EXPECT_TRUE(is_escape_exempt(command::connect));
  EXPECT_TRUE(is_escape_exempt(command::stomp));
  EXPECT_TRUE(is_escape_exempt(command::connected));
  EXPECT_FALSE(is_escape_exempt(command::send));
  EXPECT_FALSE(is_escape_exempt(command::message));
  EXPECT_FALSE(is_escape_exempt(command::error));
}

TEST(Frame, GetReturnsFirstOccurrence) {
  const frame f{command::message, {{"foo", "World"}, {"bar", ""}, {"foo", "Hello"}}, ""};
  EXPECT_EQ(f.get("foo"), "World");
  EXPECT_EQ(f.get("bar"), "");
  EXPECT_EQ(f.get("baz"), std::nullopt);
  EXPECT_EQ(f.get("FOO"), std::nullopt);  // names are case-sensitive
}

TEST(Frame, SetAppendsOrReplaces) {
  frame f{command::send, {{"a", "1"}}, ""};
  f.set("b", "2");
  ASSERT_EQ(f.headers.size(), 2u);
  EXPECT_EQ(f.headers[1], (header{"b", "2"}));
  f.set("a", "3");
  ASSERT_EQ(f.headers.size(), 2u);
  EXPECT_EQ(f.headers[0], (header{"a", "3"}));  // position kept
}

TEST(Frame, SetRemovesRepeats) {
  frame f{command::send, {{"x", "1"}, {"y", "2"}, {"x", "3"}, {"x", "4"}}, ""};
  f.set("x", "5");
  ASSERT_EQ(f.headers.size(), 2u);
  EXPECT_EQ(f.headers[0], (header{"x", "5"}));
  EXPECT_EQ(f.headers[1], (header{"y", "2"}));
  EXPECT_EQ(f.get("x"), "5");
}

}  // namespace
}  // namespace chat::stomp
