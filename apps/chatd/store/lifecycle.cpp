#include "store/lifecycle.hpp"

#include "store/sql_util.hpp"

#include <pqxx/pqxx>

#include <chrono>
#include <thread>

namespace chat::store {
namespace {

// How long add_bookmark waits for a message that may not be stored yet (as store/targets).
constexpr std::chrono::milliseconds pending_wait{500};
constexpr std::chrono::milliseconds pending_poll{20};

}  // namespace

result<item_lookup> load_history_item(session& db, std::int64_t room_id, std::int64_t caller, std::int64_t message_id) {
  return detail::guarded([&] {
    auto& conn = db.native<pqxx::connection>();
    static const std::string name = "chat_history_item";
    // The membership row, and the message (NULL columns when absent or hidden) by primary key.
    static const std::string sql =
        "SELECT " CHAT_SQL_ITEM_COLUMNS("m", "$2") " "
        "FROM chat_room_members me "
        "LEFT JOIN LATERAL ("
        "  SELECT " CHAT_SQL_ITEM_SOURCE_COLUMNS " FROM messages "
        "  WHERE id = $3 AND room_id = me.room_id " CHAT_SQL_NOT_HIDDEN("messages.id", "$2")
        CHAT_SQL_NOT_BLOCKED("messages.sender_id", "messages.type", "$2") ") m ON true "
        "WHERE me.room_id = $1 AND me.user_id = $2";
    detail::define(conn, name, sql);
    pqxx::result r;
    {
      pqxx::nontransaction tx(conn);
      r = tx.exec_prepared(name, room_id, caller, message_id);
    }
    item_lookup out;
    if (r.empty()) {
      out.access = detail::query_access(db, room_id, caller);
      return out;
    }
    if (!r[0][0].is_null()) out.item = detail::read_history_item(r[0], 0);
    return out;
  });
}

result<thread_page> load_thread(session& db, std::int64_t room_id, std::int64_t caller, std::int64_t message_id,
                                std::int64_t after, int size) {
  return detail::guarded([&] {
    auto& conn = db.native<pqxx::connection>();
    static const std::string name = "chat_thread_page";
    // Column 0: the asked message's id (NULL: no such message in the room); then the replies of
    // its thread from the partial index messages_thread_idx (thread_root_id, id): the equality
    // on thread_root_id implies the index's "thread_root_id IS NOT NULL".
    static const std::string sql =
        "SELECT t.id, " CHAT_SQL_ITEM_COLUMNS("m", "$2") " "
        "FROM chat_room_members me "
        "LEFT JOIN messages t ON t.id = $3 AND t.room_id = me.room_id "
        "LEFT JOIN LATERAL ("
        "  SELECT " CHAT_SQL_ITEM_SOURCE_COLUMNS " FROM messages "
        "  WHERE thread_root_id = COALESCE(t.thread_root_id, t.id) AND id > $4 "
        CHAT_SQL_NOT_HIDDEN("messages.id", "$2") CHAT_SQL_NOT_BLOCKED("messages.sender_id", "messages.type", "$2")
        "  ORDER BY thread_root_id, id LIMIT $5) m ON true "
        "WHERE me.room_id = $1 AND me.user_id = $2 "
        "ORDER BY m.id";
    detail::define(conn, name, sql);
    pqxx::result r;
    {
      pqxx::nontransaction tx(conn);
      r = tx.exec_prepared(name, room_id, caller, message_id, after, size + 1);
    }
    thread_page page;
    if (r.empty()) {
      page.access = detail::query_access(db, room_id, caller);
      return page;
    }
    page.found = !r[0][0].is_null();
    page.messages.reserve(static_cast<std::size_t>(std::min<pqxx::result::size_type>(r.size(), size)));
    for (const auto& row : r) {
      if (row[1].is_null()) break;  // no replies (after the cursor)
      if (static_cast<int>(page.messages.size()) == size) {
        page.has_more = true;
        break;
      }
      page.messages.push_back(detail::read_history_item(row, 1));
    }
    return page;
  });
}

result<pins_outcome> load_pins(session& db, std::int64_t room_id, std::int64_t caller) {
  return detail::guarded([&] {
    auto& conn = db.native<pqxx::connection>();
    static const std::string name = "chat_room_pins";
    // room_pins (room_id, message_id) holds at most 3 rows per room (check_room_event).
    static const std::string sql =
        "SELECT " CHAT_SQL_ITEM_COLUMNS("m", "$2") " "
        "FROM chat_room_members me "
        "LEFT JOIN LATERAL ("
        "  SELECT " CHAT_SQL_ITEM_SOURCE_COLUMNS ", pinned_at FROM ("
        "    SELECT x.*, p.pinned_at FROM room_pins p JOIN messages x ON x.id = p.message_id "
        "    WHERE p.room_id = me.room_id AND NOT x.deleted " CHAT_SQL_NOT_HIDDEN("x.id", "$2")
        CHAT_SQL_NOT_BLOCKED("x.sender_id", "x.type", "$2") ") pm"
        ") m ON true "
        "WHERE me.room_id = $1 AND me.user_id = $2 "
        "ORDER BY m.pinned_at DESC, m.id DESC";
    detail::define(conn, name, sql);
    pqxx::result r;
    {
      pqxx::nontransaction tx(conn);
      r = tx.exec_prepared(name, room_id, caller);
    }
    pins_outcome out;
    if (r.empty()) {
      out.access = detail::query_access(db, room_id, caller);
      return out;
    }
    for (const auto& row : r) {
      if (row[0].is_null()) break;  // member, nothing pinned
      out.messages.push_back(detail::read_history_item(row, 0));
    }
    return out;
  });
}

result<bookmark_page> load_bookmarks(session& db, std::int64_t caller, std::int64_t before, int size) {
  return detail::guarded([&] {
    auto& conn = db.native<pqxx::connection>();
    static const std::string name = "chat_bookmarks_page";
    // Keyset over bookmarks (user_id, message_id DESC); a bookmark of a room the caller left
    // stays stored (it shows again after rejoining) but is skipped here, as is a hidden message.
    static const std::string sql =
        "SELECT " CHAT_SQL_ITEM_COLUMNS("m", "$1") " "
        "FROM bookmarks b "
        "JOIN chat_room_members me ON me.room_id = b.room_id AND me.user_id = b.user_id "
        "JOIN messages m ON m.id = b.message_id "
        "WHERE b.user_id = $1 AND b.message_id < $2 " CHAT_SQL_NOT_HIDDEN("b.message_id", "$1")
        CHAT_SQL_NOT_BLOCKED("m.sender_id", "m.type", "$1")
        "ORDER BY b.user_id, b.message_id DESC LIMIT $3";
    detail::define(conn, name, sql);
    pqxx::nontransaction tx(conn);
    const pqxx::result r = tx.exec_prepared(name, caller, before, size + 1);
    bookmark_page page;
    page.items.reserve(static_cast<std::size_t>(std::min<pqxx::result::size_type>(r.size(), size)));
    for (const auto& row : r) {
      if (static_cast<int>(page.items.size()) == size) {
        page.has_more = true;
        break;
      }
      page.items.push_back(detail::read_history_item(row, 0));
    }
    return page;
  });
}

result<bool> add_bookmark(session& db, std::int64_t caller, std::int64_t message_id) {
  return detail::guarded([&] {
    auto& conn = db.native<pqxx::connection>();
    static const std::string name = "chat_add_bookmark";
    // Column 0: the message exists in a room of the caller (then the row is inserted, or was
    // there); column 1: it may just not be stored yet (above the newest stored id).
    static const std::string sql =
        "WITH src AS ("
        "  SELECT m.id, m.room_id FROM messages m "
        "  JOIN chat_room_members me ON me.room_id = m.room_id AND me.user_id = $1 WHERE m.id = $2), "
        "ins AS ("
        "  INSERT INTO bookmarks (user_id, message_id, room_id) SELECT $1, id, room_id FROM src "
        "  ON CONFLICT DO NOTHING) "
        "SELECT EXISTS (SELECT 1 FROM src), $2 > COALESCE((SELECT max(id) FROM messages), 0)";
    detail::define(conn, name, sql);
    const auto deadline = std::chrono::steady_clock::now() + pending_wait;
    for (;;) {
      pqxx::result r;
      {
        pqxx::nontransaction tx(conn);
        r = tx.exec_prepared(name, caller, message_id);
      }
      if (r[0][0].as<bool>()) return true;
      if (!r[0][1].as<bool>() || std::chrono::steady_clock::now() >= deadline) return false;
      std::this_thread::sleep_for(pending_poll);
    }
  });
}

result<void> remove_bookmark(session& db, std::int64_t caller, std::int64_t message_id) {
  return detail::guarded([&] {
    auto& conn = db.native<pqxx::connection>();
    static const std::string name = "chat_remove_bookmark";
    static const std::string sql = "DELETE FROM bookmarks WHERE user_id = $1 AND message_id = $2";
    detail::define(conn, name, sql);
    pqxx::nontransaction tx(conn);
    tx.exec_prepared(name, caller, message_id);
  });
}

result<std::optional<keyed_message>> find_message_by_key(session& db, std::string_view message_key) {
  return detail::guarded([&]() -> std::optional<keyed_message> {
    auto& conn = db.native<pqxx::connection>();
    static const std::string name = "chat_message_by_key";
    static const std::string sql = "SELECT id, room_id, sender_id FROM messages WHERE message_key = $1::uuid";
    detail::define(conn, name, sql);
    pqxx::nontransaction tx(conn);
    const pqxx::result r = tx.exec_prepared(name, std::string(message_key));
    if (r.empty()) return std::nullopt;
    return keyed_message{r[0][0].as<std::int64_t>(), r[0][1].as<std::int64_t>(), r[0][2].as<std::int64_t>()};
  });
}

}  // namespace chat::store
