// chatctl prints JSON text (chat::proto's encoders, its own shapes) through one pretty-printer,
// which must lay it out exactly as nlohmann's dump(2) did before (scripts compare output).
#include "core/output.hpp"

#include <chat/proto/message.hpp>
#include <chat/proto/rest.hpp>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <sstream>

namespace chatctl {
namespace {

using json = nlohmann::ordered_json;

std::vector<json> samples() {
  return {
      json::object(),
      json::array(),
      json{{"id", 1}},
      json{{"a", json::array()}, {"b", json::object()}, {"c", nullptr}, {"d", true}, {"e", -5}},
      json{{"nested", {{"deeper", {{"deepest", json::array({1, 2, json::object(), json::array()})}}}}}},
      json::array({json{{"id", 1}}, json{{"id", 2}, {"name", nullptr}}}),
      json{{"braces", "{[,:]}"}, {"quote", "say \"hi\", {x}: [y]"}, {"slash", "a\\\"b\\"}},
      json{{"controls", "line\nbreak\ttab\x01\x1f"}, {"utf8", "\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80"}},
      json{{"key with: colon, and {brace}", "v"}},
  };
}

TEST(IndentJson, MatchesNlohmannsLayout) {
  for (const auto& value : samples()) {
    EXPECT_EQ(indent_json(value.dump(), 2), value.dump(2)) << value.dump();
    EXPECT_EQ(indent_json(value.dump(), 4), value.dump(4)) << value.dump();
  }
}

TEST(IndentJson, ProtoEncodingsPrintAsTheirParsedForm) {
  chat::proto::chat_message m;
  m.id = 5;
  m.message_key = "3b241101-e2bb-4255-8caf-4136c566a962";
  m.room_id = 3;
  m.sender_id = 7;
  m.sender_nickname = "a\"n{n}";
  m.content = "x: [1, 2], {\"y\"}\n\\";
  m.created_at_ms = 1763726400123;
  const std::string text = chat::proto::to_json(m);
  const auto parsed = json::parse(text);
  EXPECT_EQ(text, parsed.dump());  // compact proto text is what nlohmann writes
  EXPECT_EQ(indent_json(text, 2), parsed.dump(2));
  const std::vector<chat::proto::room_summary> rooms = {{4, chat::proto::room_type::direct, std::nullopt, 2, 1, m},
                                                        {5, chat::proto::room_type::group, "ops", 3, 0, std::nullopt}};
  const std::string list = chat::proto::to_json(rooms);
  EXPECT_EQ(indent_json(list, 2), json::parse(list).dump(2));
}

TEST(Output, TextAndValueFormsPrintTheSame) {
  for (const auto f : {format::json, format::jsonl}) {
    for (const auto& value : samples()) {
      std::ostringstream by_value;
      std::ostringstream by_text;
      output(f, false, false, by_value).document(value);
      output(f, false, false, by_text).document_text(value.dump());
      EXPECT_EQ(by_text.str(), by_value.str());
      EXPECT_EQ(by_text.str(), (f == format::json ? value.dump(2) : value.dump()) + "\n");
    }
    std::ostringstream streamed;
    output out(f, false, false, streamed);
    if (f == format::json) out.begin_list();
    for (const auto& value : samples()) out.list_item_text(value.dump());
    out.end_list();
    std::ostringstream listed;
    std::vector<std::string> texts;
    for (const auto& value : samples()) texts.push_back(value.dump());
    output(f, false, false, listed).list_text(texts);
    EXPECT_EQ(streamed.str(), listed.str());
  }
}

}  // namespace
}  // namespace chatctl
