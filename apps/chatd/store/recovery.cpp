#include "store/recovery.hpp"

#include "store/sql_util.hpp"

#include <chat/proto/names.hpp>

#include <nlohmann/json.hpp>
#include <pqxx/pqxx>

#include <algorithm>

namespace chat::store {

namespace {

// One statement, one snapshot: the partition's progress, and the room's newest `limit` + 1
// events after the id only when the progress is far enough (a gate on each branch, evaluated
// once). Each branch walks its (room_id, id) index backwards from the newest row and stops after
// `limit` + 1 rows; the first row always comes (LEFT JOIN), with NULL event columns when there
// is nothing (or nothing yet).
constexpr const char* recovery_sql =
    "WITH prog AS (SELECT COALESCE((SELECT next_offset FROM persistence_progress "
    "                               WHERE topic = $1 AND partition = $2), 0) AS n) "
    "SELECT prog.n, e.* FROM prog LEFT JOIN LATERAL ("
    "  SELECT * FROM ("
    "    (SELECT 'm'::text AS kind, m.id, m.message_key::text AS message_key, m.sender_id, m.sender_nickname, "
    "            m.content, m.type, " CHAT_SQL_MS("m.created_at") " AS created_ms, m.reply_to_id, m.thread_root_id, "
    "            m.attachment::text AS attachment, m.forwarded_from::text AS forwarded_from, m.deleted, "
    "            " CHAT_SQL_MS("m.edited_at") " AS edited_ms, m.reply_count, " CHAT_SQL_MS("m.last_reply_at") " AS "
    "            last_reply_ms, m.event, NULL::bigint AS target_id, NULL::text AS emoji, "
    "            " CHAT_SQL_MS("m.scheduled_for") " AS scheduled_ms, NULL::text AS preview, "
    "            m.event_data::text AS event_data "
    "     FROM messages m WHERE m.room_id = $3 AND m.id > $4 AND prog.n >= $5 " CHAT_SQL_NOT_HIDDEN("m.id", "$6")
    "     ORDER BY m.id DESC LIMIT $7) "
    "    UNION ALL "
    "    (SELECT 'e'::text, r.id, r.message_key::text, r.sender_id, r.sender_nickname, r.content, NULL::text, "
    "            " CHAT_SQL_MS("r.created_at") ", NULL::bigint, NULL::bigint, NULL::text, NULL::text, false, "
    "            NULL::bigint, 0, NULL::bigint, r.event, r.target_id, r.emoji, NULL::bigint, r.preview::text, NULL::text "
    "     FROM room_events r WHERE r.room_id = $3 AND r.id > $4 AND prog.n >= $5 "
    "     ORDER BY r.id DESC LIMIT $7)"
    "  ) u ORDER BY u.id DESC LIMIT $7"
    ") e ON true "
    "ORDER BY e.id DESC";

template <class Field>
std::string text_of_field(const Field& f) {
  return f.is_null() ? std::string() : std::string(f.c_str(), f.size());
}

// messages.event_data (store/message_writer.cpp) back into the event's own members.
void read_event_data(std::string_view text, proto::chat_message& m) {
  const auto doc = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!doc.is_object()) return;
  if (const auto it = doc.find("userId"); it != doc.end() && it->is_number_integer())
    m.user_id = it->get<std::int64_t>();
  if (const auto it = doc.find("role"); it != doc.end() && it->is_string()) {
    m.role = proto::parse_room_role(it->get<std::string>());
  }
  if (const auto it = doc.find("name"); it != doc.end() && it->is_string()) m.name = it->get<std::string>();
  if (const auto it = doc.find("notice"); it != doc.end() && it->is_string()) m.notice = it->get<std::string>();
}

// A recovery row (columns from 1: kind, id, …) as the event that was published.
template <class Row>
proto::chat_message recovered_event_of(const Row& row, std::int64_t room_id) {
  proto::chat_message m;
  const std::string_view kind = detail::text_of(row[1]);
  m.id = row[2].template as<std::int64_t>();
  m.message_key = text_of_field(row[3]);
  m.room_id = room_id;
  m.sender_id = row[4].template as<std::int64_t>();
  m.sender_nickname = text_of_field(row[5]);
  m.content = text_of_field(row[6]);
  m.created_at_ms = row[8].template as<std::int64_t>();
  if (kind == "e") {
    m.event = proto::parse_event_kind(detail::text_of(row[17])).value_or(proto::event_kind::deleted);
    m.target_id = row[18].template as<std::int64_t>();
    m.emoji = text_of_field(row[19]);
    if (!row[21].is_null()) m.preview = detail::link_preview_of_json(detail::text_of(row[21]));
    return m;
  }
  m.type = proto::parse_message_type(detail::text_of(row[7])).value_or(proto::message_type::text);
  if (!row[17].is_null()) {
    // An administration event kept as a SYSTEM history item: replayed as it was delivered live.
    if (const auto kind = proto::parse_event_kind(detail::text_of(row[17])); kind && proto::is_history_notice(*kind)) {
      m.event = *kind;
      m.type = proto::message_type::system;
      if (!row[22].is_null()) read_event_data(detail::text_of(row[22]), m);
      return m;
    }
  }
  if (!row[9].is_null()) m.reply_to_id = row[9].template as<std::int64_t>();
  if (!row[10].is_null()) m.thread_root_id = row[10].template as<std::int64_t>();
  if (!row[11].is_null()) m.attachment = detail::attachment_of_json(detail::text_of(row[11]));
  if (!row[12].is_null()) m.forwarded_from = detail::forward_origin_of_json(detail::text_of(row[12]));
  if (!row[20].is_null()) m.scheduled_for_ms = row[20].template as<std::int64_t>();
  if (row[13].template as<bool>()) {
    // The tombstone, as history shows it: nothing of what was deleted.
    proto::message_state state;
    state.deleted = true;
    if (!row[14].is_null()) state.edited_at_ms = row[14].template as<std::int64_t>();
    state.reply_count = row[15].template as<std::int64_t>();
    if (!row[16].is_null()) state.last_reply_at_ms = row[16].template as<std::int64_t>();
    m.content.clear();
    m.attachment.reset();
    m.state = std::move(state);
  }
  return m;
}

}  // namespace

result<recovery_rows> load_recovery(session& db, std::int64_t room_id, std::int64_t user_id, std::int64_t after_id,
                                    std::int32_t partition, std::int64_t stored_through, int limit) {
  return detail::guarded([&] {
    auto& conn = db.native<pqxx::connection>();
    static const std::string name = "chat_recovery_events";
    detail::define(conn, name, recovery_sql);
    const int fetch = std::max(limit, 1) + 1;
    pqxx::result r;
    {
      pqxx::nontransaction tx(conn);
      r = tx.exec_prepared(name, std::string(proto::topics::messages), partition, room_id, after_id, stored_through,
                           user_id, fetch);
    }
    recovery_rows out;
    if (r.empty()) return out;  // cannot happen: the progress row always comes
    out.progress = r[0][0].as<std::int64_t>();
    out.ready = out.progress >= stored_through;
    if (!out.ready) return out;
    out.events.reserve(static_cast<std::size_t>(std::min<pqxx::result::size_type>(r.size(), fetch)));
    for (const auto& row : r) {
      if (row[2].is_null()) break;  // nothing after the id
      if (static_cast<int>(out.events.size()) == limit) {
        out.truncated = true;
        break;
      }
      out.events.push_back(recovered_event_of(row, room_id));
    }
    std::reverse(out.events.begin(), out.events.end());
    return out;
  });
}

}  // namespace chat::store
