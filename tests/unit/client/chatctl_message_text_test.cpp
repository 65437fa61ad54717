// How chatctl's table format shows room events (core/message_text.hpp): history items with their
// state, and the other events as tail prints them.
#include "core/message_text.hpp"

#include <gtest/gtest.h>

namespace chatctl {
namespace {

namespace proto = chat::proto;

proto::chat_message item(std::string content) {
  proto::chat_message m;
  m.id = 1099511627791;
  m.sender_nickname = "alice";
  m.content = std::move(content);
  m.state = proto::message_state{};
  return m;
}

TEST(MessageText, PlainMessage) {
  auto m = item("hello");
  EXPECT_EQ(message_text(m), "hello");
  m.state.reset();  // a live message has no state
  EXPECT_EQ(message_text(m), "hello");
}

TEST(MessageText, EditedReactionsRepliesPinned) {
  auto m = item("ok, thanks");
  m.reply_to_id = 123;
  m.state->edited_at_ms = 1765108800000;
  m.state->reactions = {{"👍", 3, true}, {"🎉", 1, false}};
  EXPECT_EQ(message_text(m), "↳ #123 ok, thanks (edited)  👍 3* 🎉 1");
  auto root = item("release?");
  root.state->pinned = true;
  root.state->reply_count = 2;
  EXPECT_EQ(message_text(root), "📌 release? [2 replies]");
  root.state->reply_count = 1;
  EXPECT_EQ(message_text(root), "📌 release? [1 reply]");
}

TEST(MessageText, DeletedIsATombstone) {
  auto m = item("");
  m.state->deleted = true;
  m.state->reactions = {{"👍", 1, false}};  // cleared by the server; never shown on a tombstone
  EXPECT_EQ(message_text(m), "[deleted]");
}

TEST(MessageText, AttachmentsAndForwards) {
  auto m = item("the cat");
  m.type = proto::message_type::image;
  m.attachment = proto::file_attachment{"/api/files/x", "cat.png", 12390, "image/png", 640, 480};
  EXPECT_EQ(message_text(m), "[image cat.png 12.1 KiB] the cat");
  m.type = proto::message_type::file;
  m.content.clear();
  m.attachment->name = "build.log";
  m.attachment->size = 512;
  m.forwarded_from = proto::forward_origin{4, 99, "bob"};
  EXPECT_EQ(message_text(m), "(forwarded from bob) [file build.log 512 B]");
  EXPECT_EQ(byte_size_text(3 * 1024 * 1024), "3.0 MiB");
}

TEST(MessageText, LinkPreviews) {
  auto m = item("see https://example.com/post");
  m.state->preview = proto::link_preview{"https://example.com/post", "A post", "", "", "Example"};
  EXPECT_EQ(message_text(m), "see https://example.com/post  🔗 A post (Example)");
  m.state->preview->title.clear();
  m.state->preview->site_name.clear();
  EXPECT_EQ(message_text(m), "see https://example.com/post  🔗 https://example.com/post");
  m.state->deleted = true;
  m.content.clear();
  EXPECT_EQ(message_text(m), "[deleted]");

  proto::chat_message e;
  e.event = proto::event_kind::preview;
  e.target_id = 123;
  e.preview = proto::link_preview{"https://example.com/post", "A post", "", "", ""};
  EXPECT_EQ(event_text(e), "🔗 #123: A post");
}

TEST(MessageText, OtherEventsSayWhatHappened) {
  proto::chat_message e;
  e.sender_nickname = "alice";
  e.target_id = 123;
  e.event = proto::event_kind::edited;
  e.content = "new text";
  EXPECT_EQ(event_text(e), "✎ alice edited #123: new text");
  e.event = proto::event_kind::deleted;
  EXPECT_EQ(event_text(e), "✗ #123 deleted by alice");
  e.event = proto::event_kind::reaction_added;
  e.emoji = "👍";
  EXPECT_EQ(event_text(e), "alice reacted 👍 to #123");
  e.event = proto::event_kind::reaction_removed;
  EXPECT_EQ(event_text(e), "alice removed 👍 from #123");
  e.event = proto::event_kind::pinned;
  EXPECT_EQ(event_text(e), "📌 alice pinned #123");
  e.event = proto::event_kind::unpinned;
  EXPECT_EQ(event_text(e), "alice unpinned #123");
  e.target_id = 0;  // message id 0 exists
  EXPECT_EQ(event_text(e), "alice unpinned #0");
  EXPECT_EQ(event_text(item("hi")), "hi");
}

}  // namespace
}  // namespace chatctl
