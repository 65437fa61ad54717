#pragma once
// How chatctl's table format shows a room event (SPEC §13) in one line: a message with its
// current state (history items) or, for the other events (tail), what happened to which
// message. Pure, unit-tested (tests/unit/client/chatctl_message_text_test.cpp).
#include <chat/proto/message.hpp>

#include <string>

namespace chatctl {

// A message (history item or live "message" event), e.g.
//   "↳ #123 ok, thanks (edited)  👍 3 🎉 1"
//   "[image cat.png 12.1 KiB] the cat"
//   "[deleted]"
// Parts, in order: "📌 " when pinned, "↳ #<replyToId> " for a reply, "(forwarded from <nickname>) ",
// the attachment "[image|file <name> <size>]", the content, " (edited)", " [N replies]" on a thread
// root, the reactions "  <emoji> <count>..." (a '*' after the count when the caller reacted), and
// the link preview "  🔗 <title or url> (<site name>)".
std::string message_text(const chat::proto::chat_message& m);

// A link preview in one line: its title (its url when it has none), then " (<site name>)".
std::string preview_text(const chat::proto::link_preview& p);

// Any other event, with the acting user's nickname, e.g.
//   "✎ alice edited #123: new text", "✗ #123 deleted by alice", "alice reacted 👍 to #123",
//   "alice removed 👍 from #123", "📌 alice pinned #123", "alice unpinned #123",
//   "🔗 #123: <preview_text()>" (the server's link preview).
// For a "message" event: message_text().
std::string event_text(const chat::proto::chat_message& m);

// "512 B", "12.1 KiB", "3.0 MiB".
std::string byte_size_text(std::int64_t bytes);

}  // namespace chatctl
