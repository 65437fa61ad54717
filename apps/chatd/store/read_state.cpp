#include "store/read_state.hpp"

#include "store/sql_util.hpp"

#include <chat/proto/json.hpp>
#include <chat/proto/names.hpp>

#include <nlohmann/json.hpp>
#include <pqxx/pqxx>

namespace chat::store {

std::string encode_unread(const unread_state& state) {
  std::string out = R"({"unreadCount":)";
  proto::append_json_int(state.unread_count, out);
  out += R"(,"lastReadMessageId":)";
  proto::append_json_int(state.last_read_message_id, out);
  out.push_back('}');
  return out;
}

std::optional<unread_state> decode_unread(std::string_view value) noexcept {
  const auto doc = nlohmann::json::parse(value, nullptr, /*allow_exceptions=*/false);
  if (!doc.is_object()) return std::nullopt;
  const auto count = doc.find("unreadCount");
  const auto last = doc.find("lastReadMessageId");
  if (count == doc.end() || last == doc.end() || !count->is_number_integer() || !last->is_number_integer()) {
    return std::nullopt;
  }
  unread_state state{count->get<std::int64_t>(), last->get<std::int64_t>()};
  if (state.unread_count < 0 || state.last_read_message_id < 0) return std::nullopt;
  return state;
}

result<unread_lookup> unread_from_db(session& db, std::int64_t room_id, std::int64_t user_id) {
  return detail::guarded([&] {
    unread_lookup out;
    pqxx::nontransaction tx(db.native<pqxx::connection>());
    // Always exactly one row: NULL member columns = not a member (of an existing room or not).
    const auto r = tx.exec_params(
        "SELECT m.unread_count, m.last_read_message_id, EXISTS (SELECT 1 FROM chat_rooms WHERE id = $1) "
        "FROM (VALUES (1)) AS one(x) "
        "LEFT JOIN chat_room_members m ON m.room_id = $1 AND m.user_id = $2",
        room_id, user_id);
    const auto& row = r[0];
    if (row[0].is_null()) {
      out.access = row[2].as<bool>() ? room_access::not_a_member : room_access::no_such_room;
      return out;
    }
    out.state = {row[0].as<std::int64_t>(), row[1].as<std::int64_t>()};
    return out;
  });
}

result<reads_lookup> member_reads(session& db, std::int64_t room_id, std::int64_t caller) {
  return detail::guarded([&] {
    reads_lookup out;
    pqxx::nontransaction tx(db.native<pqxx::connection>());
    // No row: no such room; else one row per member (the caller's membership on each).
    const auto r = tx.exec_params(
        "SELECT EXISTS (SELECT 1 FROM chat_room_members x WHERE x.room_id = r.id AND x.user_id = $2), "
        "       m.user_id, m.last_read_message_id "
        "FROM chat_rooms r LEFT JOIN chat_room_members m ON m.room_id = r.id "
        "WHERE r.id = $1 ORDER BY m.user_id",
        room_id, caller);
    if (r.empty()) {
      out.access = room_access::no_such_room;
      return out;
    }
    if (!r[0][0].as<bool>()) {
      out.access = room_access::not_a_member;
      return out;
    }
    out.reads.reserve(r.size());
    for (const auto& row : r) {
      if (!row[1].is_null()) out.reads.push_back({row[1].as<std::int64_t>(), row[2].as<std::int64_t>()});
    }
    return out;
  });
}

std::optional<unread_state> unread_from_cache(redis::client& redis, std::int64_t room_id, std::int64_t user_id) {
  const std::string key = proto::unread_key(room_id, user_id);
  const auto reply = redis.command({"GET", key});
  if (!reply || reply->type != redis::reply::kind::string) return std::nullopt;
  return decode_unread(reply->str);
}

bool fill_unread_cache(redis::client& redis, std::int64_t room_id, std::int64_t user_id, const unread_state& state,
                       std::chrono::seconds ttl) {
  const std::string key = proto::unread_key(room_id, user_id);
  const std::string value = encode_unread(state);
  const std::string seconds = std::to_string(ttl.count());
  const auto reply = redis.command({"SET", key, value, "EX", seconds, "NX"});
  return reply && reply->type == redis::reply::kind::status;
}

void drop_unread_cache(redis::client& redis, std::int64_t room_id, std::int64_t user_id) {
  const std::string key = proto::unread_key(room_id, user_id);
  redis.command({"DEL", key});
}

}  // namespace chat::store
