#include "store/history.hpp"

#include "store/sql_util.hpp"

#include <nlohmann/json.hpp>
#include <pqxx/pqxx>

namespace chat::store {
namespace detail {

std::optional<proto::file_attachment> attachment_of_json(std::string_view json) {
  const auto doc = nlohmann::json::parse(json, nullptr, /*allow_exceptions=*/false);
  if (!doc.is_object()) return std::nullopt;
  const auto url = doc.find("url");
  if (url == doc.end() || !url->is_string()) return std::nullopt;
  proto::file_attachment a;
  a.url = url->get<std::string>();
  if (const auto it = doc.find("name"); it != doc.end() && it->is_string()) a.name = it->get<std::string>();
  if (const auto it = doc.find("size"); it != doc.end() && it->is_number_integer()) a.size = it->get<std::int64_t>();
  if (const auto it = doc.find("mimeType"); it != doc.end() && it->is_string()) a.mime_type = it->get<std::string>();
  if (const auto it = doc.find("width"); it != doc.end() && it->is_number_integer()) a.width = it->get<std::int32_t>();
  if (const auto it = doc.find("height"); it != doc.end() && it->is_number_integer()) {
    a.height = it->get<std::int32_t>();
  }
  return a;
}

std::optional<proto::forward_origin> forward_origin_of_json(std::string_view json) {
  const auto doc = nlohmann::json::parse(json, nullptr, /*allow_exceptions=*/false);
  if (!doc.is_object()) return std::nullopt;
  const auto room = doc.find("roomId");
  const auto message = doc.find("messageId");
  if (room == doc.end() || !room->is_number_integer() || message == doc.end() || !message->is_number_integer()) {
    return std::nullopt;
  }
  proto::forward_origin f;
  f.room_id = room->get<std::int64_t>();
  f.message_id = message->get<std::int64_t>();
  if (const auto it = doc.find("senderNickname"); it != doc.end() && it->is_string()) {
    f.sender_nickname = it->get<std::string>();
  }
  return f;
}

std::vector<proto::reaction_count> reactions_of_json(std::string_view json) {
  std::vector<proto::reaction_count> out;
  const auto doc = nlohmann::json::parse(json, nullptr, /*allow_exceptions=*/false);
  if (!doc.is_array()) return out;
  out.reserve(doc.size());
  for (const auto& item : doc) {
    // [emoji, count, me] as CHAT_SQL_ITEM_COLUMNS builds it.
    if (!item.is_array() || item.size() != 3 || !item[0].is_string() || !item[1].is_number_integer()) continue;
    out.push_back(
        {item[0].get<std::string>(), item[1].get<std::int64_t>(), item[2].is_boolean() && item[2].get<bool>()});
  }
  return out;
}

std::optional<proto::link_preview> link_preview_of_json(std::string_view json) {
  const auto doc = nlohmann::json::parse(json, nullptr, /*allow_exceptions=*/false);
  if (!doc.is_object()) return std::nullopt;
  auto text = [&doc](const char* name) {
    const auto it = doc.find(name);
    return it != doc.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  proto::link_preview p{text("url"), text("title"), text("description"), text("imageUrl"), text("siteName")};
  if (p.url.empty()) return std::nullopt;
  return p;
}

}  // namespace detail

result<history_page> load_history(session& db, std::int64_t room_id, std::int64_t caller, std::int64_t before,
                                  int size) {
  return detail::guarded([&] {
    auto& conn = db.native<pqxx::connection>();
    static const std::string name = "chat_history_page";
    // The membership row drives a LATERAL scan of messages(room_id, id DESC): no row = not a
    // member; one row with NULL columns = a member of an empty page. The room range and the
    // ORDER BY keep the planner on that index (see rooms.cpp, above list_rooms). Messages the
    // caller hid (delete-for-me) or that users the caller blocks sent are skipped inside the scan,
    // so a page is still `size` long; the state columns (pins, reactions) are correlated
    // subqueries of the page's rows only.
    static const std::string sql =
        "SELECT " CHAT_SQL_ITEM_COLUMNS("m", "$2") " "
        "FROM chat_room_members me "
        "LEFT JOIN LATERAL ("
        "  SELECT " CHAT_SQL_ITEM_SOURCE_COLUMNS " "
        "  FROM messages WHERE room_id >= me.room_id AND room_id <= me.room_id AND id < $3 "
        CHAT_SQL_NOT_HIDDEN("messages.id", "$2") CHAT_SQL_NOT_BLOCKED("messages.sender_id", "messages.type", "$2")
        "  ORDER BY room_id, id DESC LIMIT $4) m ON true "
        "WHERE me.room_id = $1 AND me.user_id = $2 "
        "ORDER BY m.id DESC";
    detail::define(conn, name, sql);
    history_page page;
    pqxx::result r;
    {
      pqxx::nontransaction tx(conn);
      r = tx.exec_prepared(name, room_id, caller, before, size + 1);
    }
    if (r.empty()) {
      page.access = detail::query_access(db, room_id, caller);
      // Someone who joined between the two queries gets an empty page, not an error.
      return page;
    }
    page.messages.reserve(static_cast<std::size_t>(std::min<pqxx::result::size_type>(r.size(), size)));
    for (const auto& row : r) {
      if (row[0].is_null()) break;  // member, no messages
      if (static_cast<int>(page.messages.size()) == size) {
        page.has_more = true;
        break;
      }
      page.messages.push_back(detail::read_history_item(row, 0));
    }
    return page;
  });
}

}  // namespace chat::store
