#include "core/record_json.hpp"

#include <gtest/gtest.h>

#include "fixtures.hpp"

namespace dlt_replay {
namespace {

using json = nlohmann::ordered_json;
using test::chat_dead_letter;

// Export, then read the line back.
dead_letter round_trip(const dead_letter& d) {
  const std::string line = to_json(d).dump();
  EXPECT_EQ(line.find('\n'), std::string::npos);
  auto parsed = from_json_line(line);
  EXPECT_TRUE(parsed.record) << parsed.error;
  return parsed.record ? std::move(*parsed.record) : dead_letter{};
}

void expect_same_bytes(const dead_letter& a, const dead_letter& b) {
  EXPECT_EQ(a.dlt, b.dlt);
  EXPECT_EQ(a.key, b.key);
  EXPECT_EQ(a.value, b.value);
  EXPECT_EQ(a.headers, b.headers);
  EXPECT_EQ(a.info.origin_topic, b.info.origin_topic);
  EXPECT_EQ(a.info.origin_partition, b.info.origin_partition);
  EXPECT_EQ(a.info.origin_offset, b.info.origin_offset);
}

TEST(record_json, compact_json_value_is_embedded_and_round_trips_exactly) {
  const auto d = chat_dead_letter(R"({"messageKey":"k","roomId":42,"content":"h\u00e9\n","n":1.5})");
  // nlohmann would print é raw, so this value is not embedded (escape differs) ...
  EXPECT_EQ(to_json(d)["valueFormat"], "text");
  expect_same_bytes(round_trip(d), d);
  // ... while a value in compact form is.
  const auto compact = chat_dead_letter(R"({"messageKey":"k","roomId":42,"content":"hé","tags":[1,2]})");
  const auto j = to_json(compact);
  EXPECT_EQ(j["valueFormat"], "json");
  EXPECT_TRUE(j["value"].is_object());
  EXPECT_EQ(j["value"]["roomId"], 42);
  expect_same_bytes(round_trip(compact), compact);
}

TEST(record_json, non_compact_json_and_poison_text_stay_text) {
  for (const std::string& value : {std::string(R"({"roomId": 42, "content": "spaced"})"), std::string("{not json"),
                                   std::string(R"({"b":1,"a":2,"b":3})"), std::string("12"), std::string("")}) {
    const auto d = chat_dead_letter(value);
    EXPECT_EQ(to_json(d)["valueFormat"], "text") << value;
    expect_same_bytes(round_trip(d), d);
  }
}

TEST(record_json, binary_value_and_key_are_base64) {
  auto d = chat_dead_letter(std::string("\x00\xFF\xFEpoison", 9));
  d.key = std::string("\xC3\x28", 2);  // invalid UTF-8
  const auto j = to_json(d);
  EXPECT_EQ(j["valueFormat"], "base64");
  EXPECT_EQ(j["keyFormat"], "base64");
  expect_same_bytes(round_trip(d), d);
}

TEST(record_json, no_key_is_null) {
  auto d = chat_dead_letter();
  d.key.reset();
  EXPECT_TRUE(to_json(d)["key"].is_null());
  EXPECT_EQ(round_trip(d).key, std::nullopt);
}

TEST(record_json, carries_normalised_origin_and_error) {
  const auto j = to_json(chat_dead_letter());
  EXPECT_EQ(j["dlt"]["topic"], "chat.messages.dlt");
  EXPECT_EQ(j["dlt"]["partition"], 3);
  EXPECT_EQ(j["dlt"]["offset"], 7);
  EXPECT_EQ(j["dlt"]["timestamp"], "2025-11-21T12:01:00.500Z");
  EXPECT_EQ(j["origin"]["topic"], "chat.messages");
  EXPECT_EQ(j["origin"]["partition"], 3);
  EXPECT_EQ(j["origin"]["offset"], 1234);
  EXPECT_EQ(j["origin"]["timestamp"], "2025-11-21T12:00:00.123Z");
  EXPECT_EQ(j["origin"]["consumerGroup"], "chat-persistence");
  EXPECT_EQ(j["error"]["class"], "invalid_json");
  EXPECT_EQ(j["error"]["attempts"], 1);
  EXPECT_EQ(j["error"]["failedAt"], "2025-11-21T12:01:00.000Z");
  EXPECT_EQ(j["dialect"], "chat");
  EXPECT_EQ(j["replayCount"], 0);
}

TEST(record_json, spring_binary_headers_are_base64_with_the_decoded_number) {
  dead_letter d = chat_dead_letter();
  d.headers = test::spring_headers("orders", 3, 1234, "java.lang.IllegalStateException", "boom");
  d.info = normalise(d.headers);
  const auto j = to_json(d);
  EXPECT_EQ(j["dialect"], "spring");
  EXPECT_EQ(j["origin"]["partition"], 3);
  EXPECT_EQ(j["origin"]["offset"], 1234);
  bool seen = false;
  for (const auto& h : j["headers"]) {
    if (h["name"] == "kafka_dlt-original-partition") {
      EXPECT_EQ(h["base64"], "AAAAAw==");
      EXPECT_EQ(h["decoded"], 3);
      EXPECT_FALSE(h.contains("value"));
      seen = true;
    }
    if (h["name"] == "kafka_dlt-original-timestamp") {
      EXPECT_EQ(h["time"], "2023-11-14T22:13:20.000Z");
    }
    if (h["name"] == "kafka_dlt-original-topic") {
      EXPECT_EQ(h["value"], "orders");
    }
  }
  EXPECT_TRUE(seen);
  const auto back = round_trip(d);
  expect_same_bytes(back, d);
  EXPECT_EQ(back.info.kind, dialect::spring);
}

TEST(record_json, an_edited_value_can_be_an_object_or_a_string) {
  auto j = to_json(chat_dead_letter("{broken"));
  ASSERT_EQ(j["valueFormat"], "text");
  // The SRE replaces the text with a JSON object and leaves valueFormat alone.
  j["value"] = json::parse(R"({"roomId":42,"content":"fixed"})");
  auto parsed = from_json(j);
  ASSERT_TRUE(parsed.record) << parsed.error;
  EXPECT_EQ(parsed.record->value, R"({"roomId":42,"content":"fixed"})");
  // ... or with corrected text.
  j["value"] = R"({"roomId": 42})";
  parsed = from_json(j);
  ASSERT_TRUE(parsed.record);
  EXPECT_EQ(parsed.record->value, R"({"roomId": 42})");
  // valueFormat json with a string value means a JSON string literal.
  j["valueFormat"] = "json";
  EXPECT_EQ(from_json(j).record->value, R"("{\"roomId\": 42}")");
}

TEST(record_json, edited_origin_redirects) {
  auto j = to_json(chat_dead_letter());
  j["origin"]["topic"] = "chat.messages.retry";
  j["origin"]["partition"] = 1;
  const auto parsed = from_json(j);
  ASSERT_TRUE(parsed.record);
  EXPECT_EQ(parsed.record->info.origin_topic, "chat.messages.retry");
  EXPECT_EQ(parsed.record->info.origin_partition, 1);
  EXPECT_EQ(parsed.record->info.origin_offset, 1234);
  EXPECT_EQ(parsed.record->info.error_class, "invalid_json");  // from the headers
}

TEST(record_json, informational_fields_may_be_dropped) {
  const json j{{"dlt", {{"topic", "t.dlt"}, {"partition", 0}, {"offset", 5}}},
               {"key", "k"},
               {"value", "v"},
               {"headers", json::array({json{{"name", "h"}, {"value", nullptr}}})}};
  const auto parsed = from_json(j);
  ASSERT_TRUE(parsed.record) << parsed.error;
  EXPECT_EQ(parsed.record->dlt, (position{"t.dlt", 0, 5}));
  EXPECT_EQ(parsed.record->value, "v");
  ASSERT_EQ(parsed.record->headers.size(), 1U);
  EXPECT_EQ(parsed.record->headers[0].value, "");
  EXPECT_EQ(parsed.record->info.kind, dialect::none);
}

TEST(record_json, rejects_what_cannot_be_replayed_exactly) {
  const auto base = to_json(chat_dead_letter());
  const auto error_of = [](const json& j) { return from_json(j).error; };
  json j = base;
  j.erase("dlt");
  EXPECT_NE(error_of(j).find("dlt"), std::string::npos);
  j = base;
  j["dlt"]["offset"] = -1;
  EXPECT_NE(error_of(j).find("dlt.offset"), std::string::npos);
  j = base;
  j["valueFormat"] = "base64";
  j["value"] = "not base64!";
  EXPECT_NE(error_of(j).find("base64"), std::string::npos);
  j = base;
  j["valueFormat"] = "yaml";
  EXPECT_NE(error_of(j).find("unknown format"), std::string::npos);
  j = base;
  j["headers"] = json::array({json{{"value", "x"}}});
  EXPECT_NE(error_of(j).find("name"), std::string::npos);
  j = base;
  j["origin"]["partition"] = "three";
  EXPECT_NE(error_of(j).find("origin.partition"), std::string::npos);
  EXPECT_EQ(from_json_line("{oops").error, "not valid JSON");
  EXPECT_EQ(from_json_line("[1]").error, "not a JSON object");
}

TEST(record_json, summary_has_the_list_columns) {
  const auto j = summary_json(chat_dead_letter());
  EXPECT_EQ(j["dlt"]["partition"], 3);
  EXPECT_EQ(j["dlt"]["offset"], 7);
  EXPECT_EQ(j["time"], "2025-11-21T12:01:00.000Z");
  EXPECT_EQ(j["origin"]["topic"], "chat.messages");
  EXPECT_EQ(j["origin"]["offset"], 1234);
  EXPECT_EQ(j["origin"]["consumerGroup"], "chat-persistence");
  EXPECT_EQ(j["error"]["class"], "invalid_json");
  EXPECT_EQ(j["key"], "42");
  EXPECT_EQ(j["room"], "42");
  EXPECT_EQ(j["valueSize"], chat_dead_letter().value.size());
  EXPECT_FALSE(j.contains("value"));
  EXPECT_FALSE(j.contains("headers"));
}

}  // namespace
}  // namespace dlt_replay
