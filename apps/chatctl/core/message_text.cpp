#include "core/message_text.hpp"

#include <cstdio>

namespace chatctl {

namespace proto = chat::proto;

std::string byte_size_text(std::int64_t bytes) {
  if (bytes < 1024) return std::to_string(bytes) + " B";
  char text[32];
  const double kib = static_cast<double>(bytes) / 1024.0;
  if (kib < 1024.0) {
    std::snprintf(text, sizeof text, "%.1f KiB", kib);
  } else {
    std::snprintf(text, sizeof text, "%.1f MiB", kib / 1024.0);
  }
  return text;
}

std::string preview_text(const proto::link_preview& p) {
  std::string out = p.title.empty() ? p.url : p.title;
  if (!p.site_name.empty()) out += " (" + p.site_name + ")";
  return out;
}

std::string message_text(const proto::chat_message& m) {
  const bool deleted = m.state && m.state->deleted;
  std::string out;
  if (m.state && m.state->pinned) out += "📌 ";
  if (m.reply_to_id > 0) out += "↳ #" + std::to_string(m.reply_to_id) + " ";
  if (m.forwarded_from) out += "(forwarded from " + m.forwarded_from->sender_nickname + ") ";
  if (deleted) {
    out += "[deleted]";
  } else {
    if (m.attachment) {
      out += m.type == proto::message_type::image ? "[image " : "[file ";
      out += m.attachment->name + " " + byte_size_text(m.attachment->size) + "]";
      if (!m.content.empty()) out += ' ';
    }
    out += m.content;
    if (m.state && m.state->edited_at_ms) out += " (edited)";
  }
  if (m.state) {
    if (m.state->reply_count > 0) {
      out += " [" + std::to_string(m.state->reply_count) + (m.state->reply_count == 1 ? " reply]" : " replies]");
    }
    if (!deleted && !m.state->reactions.empty()) {
      out += ' ';
      for (const auto& r : m.state->reactions) {
        out += ' ' + r.emoji + ' ' + std::to_string(r.count);
        if (r.me) out += '*';
      }
    }
    if (!deleted && m.state->preview) out += "  🔗 " + preview_text(*m.state->preview);
  }
  return out;
}

std::string event_text(const proto::chat_message& m) {
  const std::string target = "#" + std::to_string(m.target_id);
  const std::string& who = m.sender_nickname;
  switch (m.event) {
    case proto::event_kind::message: return message_text(m);
    case proto::event_kind::edited: return "✎ " + who + " edited " + target + ": " + m.content;
    case proto::event_kind::deleted: return "✗ " + target + " deleted by " + who;
    case proto::event_kind::reaction_added: return who + " reacted " + m.emoji + " to " + target;
    case proto::event_kind::reaction_removed: return who + " removed " + m.emoji + " from " + target;
    case proto::event_kind::pinned: return "📌 " + who + " pinned " + target;
    case proto::event_kind::unpinned: return who + " unpinned " + target;
    case proto::event_kind::preview:
      return "🔗 " + target + ": " + (m.preview ? preview_text(*m.preview) : std::string("(no preview)"));
    // Room administration: the SYSTEM text the server wrote.
    case proto::event_kind::room_updated:
    case proto::event_kind::member_joined:
    case proto::event_kind::member_left:
    case proto::event_kind::member_removed:
    case proto::event_kind::member_role:
    case proto::event_kind::room_deleted: return m.content;
  }
  return std::string(proto::to_string(m.event)) + " " + target;
}

}  // namespace chatctl
