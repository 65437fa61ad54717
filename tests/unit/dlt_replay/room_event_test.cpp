// Room events of SPEC §13 (message.edited, reaction.added, ...) are dead letters like any other:
// listed with their event kind, filtered by it, exported and read back byte-exactly, and
// replayed to their original topic and partition unchanged.
#include "core/filter.hpp"
#include "core/record_json.hpp"
#include "core/render.hpp"
#include "core/replay_plan.hpp"

#include <gtest/gtest.h>

#include <sstream>

#include "fixtures.hpp"

namespace dlt_replay {
namespace {

using test::chat_dead_letter;

// What chatd writes to chat.messages for an edit and a reaction (lib/proto append_json).
const std::string edited =
    R"({"event":"message.edited","messageKey":"5f0c6a34-9d2e-4b1f-8a7c-1e2d3c4b5a69","roomId":42,"senderId":7,)"
    R"("senderNickname":"ann","targetId":1099511627790,"content":"fixed typo","createdAt":"2026-12-07T12:00:00.000Z"})";
const std::string reaction =
    R"({"event":"reaction.added","messageKey":"6a1d7b45-ae3f-4c20-9b8d-2f3e4d5c6b7a","roomId":42,"senderId":7,)"
    R"("senderNickname":"ann","targetId":1099511627790,"emoji":"👍","createdAt":"2026-12-07T12:00:01.000Z"})";

TEST(room_event, payload_event_names_the_kind) {
  EXPECT_EQ(payload_event(edited), "message.edited");
  EXPECT_EQ(payload_event(reaction), "reaction.added");
  EXPECT_EQ(payload_event(R"({"roomId":42,"content":"hi"})"), "message");
  EXPECT_EQ(payload_event(R"({"roomId":42,"userId":7,"lastReadMessageId":5})"), std::nullopt);  // a read receipt
  EXPECT_EQ(payload_event("not json"), std::nullopt);
  EXPECT_EQ(payload_event(R"({"event":5})"), std::nullopt);
}

TEST(room_event, listed_with_room_and_event) {
  const auto d = chat_dead_letter(edited);
  const auto j = summary_json(d);
  EXPECT_EQ(j["event"], "message.edited");
  EXPECT_EQ(j["room"], "42");
  EXPECT_EQ(summary_json(chat_dead_letter())["event"], "message");
  std::ostringstream row;
  write_list_row(row, d);
  EXPECT_NE(row.str().find("chat.messages 3:1234"), std::string::npos) << row.str();
  std::ostringstream show;
  write_show(show, d);
  EXPECT_NE(show.str().find("message.edited"), std::string::npos) << show.str();
  EXPECT_NE(show.str().find("fixed typo"), std::string::npos) << show.str();
}

TEST(room_event, filtered_by_event_and_room) {
  filter f;
  f.event = "reaction.added";
  EXPECT_FALSE(f.empty());
  EXPECT_TRUE(f.matches(chat_dead_letter(reaction)));
  EXPECT_FALSE(f.matches(chat_dead_letter(edited)));
  EXPECT_FALSE(f.matches(chat_dead_letter()));
  f.event = "message";
  EXPECT_TRUE(f.matches(chat_dead_letter()));
  EXPECT_FALSE(f.matches(chat_dead_letter(reaction)));
  f.event.reset();
  f.room = "42";
  EXPECT_TRUE(f.matches(chat_dead_letter(reaction)));
}

TEST(room_event, exported_and_read_back_byte_exactly) {
  const auto d = chat_dead_letter(reaction);
  const auto j = to_json(d);
  EXPECT_EQ(j["valueFormat"], "json");
  const auto back = from_json_line(j.dump());
  ASSERT_TRUE(back.record) << back.error;
  EXPECT_EQ(back.record->value, reaction);
  EXPECT_EQ(back.record->key, d.key);
}

TEST(room_event, replayed_unchanged_to_its_partition) {
  const auto d = chat_dead_letter(edited, 3, 99);
  ledger_view ledger;
  replay_planner planner(
      {}, ledger, [](const std::string&) { return 6; }, 1763726500000);
  const auto item = planner.plan(d);
  ASSERT_EQ(item.action, replay_action::send);
  EXPECT_EQ(item.out.topic, "chat.messages");
  EXPECT_EQ(item.out.partition, 3);
  EXPECT_EQ(item.out.value, edited);
  EXPECT_EQ(item.out.key, d.key);
}

}  // namespace
}  // namespace dlt_replay
