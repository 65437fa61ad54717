#include "store/history.hpp"

#include "store/sql_util.hpp"

#include <pqxx/pqxx>

namespace chat::store {

result<history_page> load_history(session& db, std::int64_t room_id, std::int64_t caller, std::int64_t before,
                                  int size) {
  return detail::guarded([&] {
    auto& conn = db.native<pqxx::connection>();
    static const std::string name = "chat_history_page";
    // The membership row drives a LATERAL scan of messages(room_id, id DESC): no row = not a
    // member; one row with NULL columns = a member of an empty page. The room range and the
    // ORDER BY keep the planner on that index (see rooms.cpp, above list_rooms).
    static const std::string sql =
        "SELECT " CHAT_SQL_MESSAGE_COLUMNS("m") " "
        "FROM chat_room_members me "
        "LEFT JOIN LATERAL ("
        "  SELECT id, message_key, room_id, sender_id, sender_nickname, content, type, created_at "
        "  FROM messages WHERE room_id >= me.room_id AND room_id <= me.room_id AND id < $3 "
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
      page.messages.push_back(detail::read_message(row, 0));
    }
    return page;
  });
}

}  // namespace chat::store
