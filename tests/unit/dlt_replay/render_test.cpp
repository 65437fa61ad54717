#include "core/render.hpp"

#include <gtest/gtest.h>

#include <sstream>

#include "fixtures.hpp"

namespace dlt_replay {
namespace {

using test::chat_dead_letter;

TEST(render, sanitize_escapes_control_characters_and_bad_utf8) {
  EXPECT_EQ(sanitize("plain é"), "plain é");
  EXPECT_EQ(sanitize("a\nb\tc\r"), "a\\nb\\tc\\r");
  EXPECT_EQ(sanitize("\x1b[31mred"), "\\x1b[31mred");
  EXPECT_EQ(sanitize(std::string("\0\xFF", 2)), "\\x00\\xff");
}

TEST(render, fit_pads_and_cuts_by_code_point) {
  EXPECT_EQ(fit("ab", 4), "ab  ");
  EXPECT_EQ(fit("abcdef", 4), "abc\u2026");
  EXPECT_EQ(fit("ééé", 3), "ééé");
  EXPECT_EQ(fit("éééé", 3), "éé\u2026");
}

TEST(render, list_row_has_every_column) {
  std::ostringstream os;
  write_list_header(os);
  write_list_row(os, chat_dead_letter());
  const auto text = os.str();
  for (const char* part : {"P:OFFSET", "3:7", "2025-11-21T12:01:00.000Z", "chat.messages 3:1234", "chat-persistence",
                           "42", "invalid_json: value is not JSON"}) {
    EXPECT_NE(text.find(part), std::string::npos) << part << "\n" << text;
  }
}

TEST(render, show_decodes_every_header_and_pretty_prints_the_payload) {
  auto d = chat_dead_letter(R"({"roomId":42,"content":"hi"})");
  d.headers = test::spring_headers("orders", 3, 1234, "java.lang.IllegalStateException", "boom");
  d.info = normalise(d.headers);
  std::ostringstream os;
  write_show(os, d);
  const auto text = os.str();
  for (const char* part :
       {"spring", "orders 3:1234", "orders-service", "java.lang.IllegalStateException",
        "kafka_dlt-original-partition: 3  [4-byte big-endian]", "kafka_dlt-original-offset: 1234  [8-byte big-endian]",
        "kafka_dlt-original-timestamp: 1700000000000  (2023-11-14T22:13:20.000Z)", "\"content\": \"hi\"",
        "Listener.java:42"}) {
    EXPECT_NE(text.find(part), std::string::npos) << part << "\n" << text;
  }
}

TEST(render, dry_run_shows_target_headers_and_value) {
  const auto d = chat_dead_letter();
  ledger_view ledger;
  replay_planner p(
      {}, ledger, [](const std::string&) { return 6; }, 1763726500000);
  const auto item = p.plan(d);
  std::ostringstream os;
  write_plan(os, d, item);
  const auto text = os.str();
  for (const char* part : {"send", "chat.messages.dlt 3:7", "->  chat.messages partition 3", "dlt-replay-count: 1",
                           "dlt-replayed-from: chat.messages.dlt:3:7", "\"roomId\": 42"}) {
    EXPECT_NE(text.find(part), std::string::npos) << part << "\n" << text;
  }
  const auto j = plan_json(d, item);
  EXPECT_EQ(j["action"], "send");
  EXPECT_EQ(j["target"]["topic"], "chat.messages");
  EXPECT_EQ(j["target"]["partition"], 3);
  EXPECT_EQ(j["value"]["roomId"], 42);
  EXPECT_EQ(j["key"], "42");
}

TEST(render, stats_count_by_class_topic_group_and_hour) {
  dead_letter_stats s;
  s.add(chat_dead_letter());
  auto other = chat_dead_letter();
  other.headers = test::connect_headers();
  other.info = normalise(other.headers);
  other.timestamp_ms = 1763730000000;  // 13:00
  s.add(other);
  const auto j = stats_json(s);
  EXPECT_EQ(j["total"], 2);
  EXPECT_EQ(j["byErrorClass"]["invalid_json"], 1);
  EXPECT_EQ(j["byErrorClass"]["org.apache.kafka.connect.errors.DataException"], 1);
  EXPECT_EQ(j["byOriginTopic"]["chat.messages"], 1);
  EXPECT_EQ(j["byOriginTopic"]["orders"], 1);
  EXPECT_EQ(j["byConsumerGroup"]["connector jdbc-sink"], 1);
  EXPECT_EQ(j["byHour"]["2025-11-21T12"], 1);
  EXPECT_EQ(j["byHour"]["2025-11-21T13"], 1);
  std::ostringstream os;
  write_stats(os, s);
  EXPECT_NE(os.str().find("dead letters: 2"), std::string::npos);
}

}  // namespace
}  // namespace dlt_replay
