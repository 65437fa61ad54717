#include "store/targets.hpp"

#include "store/sql_util.hpp"

#include <nlohmann/json.hpp>
#include <pqxx/pqxx>

#include <thread>

namespace chat::store {
namespace {

struct lookup {
  chatd::target_context ctx;
  bool maybe_pending = false;  // absent target above the room's newest stored message
};

lookup query_context(pqxx::connection& conn, std::int64_t room_id, std::int64_t user_id, std::int64_t target_id) {
  static const std::string name = "chat_target_context";
  // One row when the room exists. The actor's role (NULL: not a member; a DIRECT room's members
  // are its admins by the room's type, chatd::is_room_admin). The pin count and the newest id use the (room_id, …)
  // indexes; a DIRECT room's block (SPEC §15) is two probes of user_blocks' primary key.
  static const std::string sql =
      "SELECT r.type, me.role, me.user_id IS NOT NULL, "
      "  (SELECT count(*) FROM room_pins WHERE room_id = r.id), "
      "  t.id, t.sender_id, t.type, t.deleted, " CHAT_SQL_MS("t.created_at") ", t.thread_root_id, "
      "  EXISTS (SELECT 1 FROM room_pins p WHERE p.room_id = r.id AND p.message_id = t.id), "
      "  (SELECT max(id) FROM messages WHERE room_id = r.id), "
      "  CASE WHEN r.type = 'DIRECT' THEN (CASE WHEN r.direct_low = $2 THEN r.direct_high ELSE r.direct_low END) "
      "       ELSE 0 END, "
      "  r.type = 'DIRECT' AND " CHAT_SQL_BLOCKED_PAIR("r.direct_low", "r.direct_high") " "
      "FROM chat_rooms r LEFT JOIN chat_room_members me ON me.room_id = r.id AND me.user_id = $2 "
      "LEFT JOIN messages t ON t.id = $3 AND t.room_id = r.id "
      "WHERE r.id = $1";
  detail::define(conn, name, sql);
  pqxx::nontransaction tx(conn);
  const pqxx::result r = tx.exec_prepared(name, room_id, user_id, target_id);
  lookup out;
  if (r.empty()) return out;
  const auto& row = r[0];
  out.ctx.room_exists = true;
  out.ctx.member = row[2].as<bool>();
  if (out.ctx.member) {
    out.ctx.role = proto::parse_room_role(detail::text_of(row[1])).value_or(proto::room_role::member);
  }
  out.ctx.pin_count = static_cast<int>(row[3].as<std::int64_t>());
  out.ctx.direct_peer = row[12].is_null() ? 0 : row[12].as<std::int64_t>();
  out.ctx.blocked = row[13].as<bool>();
  if (!row[4].is_null()) {
    chatd::target_message t;
    t.id = row[4].as<std::int64_t>();
    t.sender_id = row[5].as<std::int64_t>();
    t.type = proto::parse_message_type(detail::text_of(row[6])).value_or(proto::message_type::text);
    t.deleted = row[7].as<bool>();
    t.created_at_ms = row[8].as<std::int64_t>();
    t.thread_root_id = row[9].is_null() ? 0 : row[9].as<std::int64_t>();
    t.pinned = row[10].as<bool>();
    out.ctx.target = t;
  } else if (target_id > 0) {
    out.maybe_pending = row[11].is_null() || target_id > row[11].as<std::int64_t>();
  }
  return out;
}

}  // namespace

result<chatd::target_context> load_target_context(session& db, std::int64_t room_id, std::int64_t user_id,
                                                  std::int64_t target_id, const chatd::recent_messages* recent,
                                                  std::chrono::milliseconds wait_for_pending) {
  return detail::guarded([&] {
    auto& conn = db.native<pqxx::connection>();
    const auto deadline = std::chrono::steady_clock::now() + wait_for_pending;
    for (;;) {
      lookup found = query_context(conn, room_id, user_id, target_id);
      if (!found.maybe_pending || !found.ctx.member) return found.ctx;
      if (recent != nullptr) {
        if (auto known = recent->find(room_id, target_id)) {
          found.ctx.target = *known;
          return found.ctx;
        }
      }
      if (std::chrono::steady_clock::now() >= deadline) return found.ctx;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  });
}

result<std::optional<proto::chat_message>> load_forward_source(session& db, std::int64_t room_id,
                                                               std::int64_t message_id, std::int64_t user_id) {
  return detail::guarded([&]() -> std::optional<proto::chat_message> {
    auto& conn = db.native<pqxx::connection>();
    static const std::string name = "chat_forward_source";
    static const std::string sql =
        "SELECT " CHAT_SQL_MESSAGE_COLUMNS("m") ", m.attachment::text "
        "FROM messages m JOIN chat_room_members me ON me.room_id = m.room_id AND me.user_id = $3 "
        "WHERE m.id = $2 AND m.room_id = $1 AND NOT m.deleted AND m.type <> 'SYSTEM'";
    detail::define(conn, name, sql);
    pqxx::nontransaction tx(conn);
    const pqxx::result r = tx.exec_prepared(name, room_id, message_id, user_id);
    if (r.empty()) return std::nullopt;
    proto::chat_message m = detail::read_message(r[0], 0);
    const auto& attachment = r[0][detail::message_column_count];
    if (!attachment.is_null()) {
      const auto doc = nlohmann::json::parse(detail::text_of(attachment), nullptr, /*allow_exceptions=*/false);
      if (doc.is_object()) {
        proto::file_attachment a;
        a.url = doc.value("url", "");
        a.name = doc.value("name", "");
        a.size = doc.value("size", std::int64_t{0});
        a.mime_type = doc.value("mimeType", "");
        if (doc.contains("width") && doc["width"].is_number_integer()) a.width = doc["width"].get<std::int32_t>();
        if (doc.contains("height") && doc["height"].is_number_integer()) a.height = doc["height"].get<std::int32_t>();
        m.attachment = std::move(a);
      }
    }
    return m;
  });
}

}  // namespace chat::store
