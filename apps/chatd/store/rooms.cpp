#include "store/rooms.hpp"

#include "store/sql_util.hpp"

#include <pqxx/pqxx>

#include <algorithm>
#include <charconv>
#include <optional>

namespace chat::store {
namespace {

room_type parse_room_type(std::string_view text) { return text == "DIRECT" ? room_type::direct : room_type::group; }

std::optional<std::string> optional_text(const pqxx::field& f) {
  if (f.is_null()) return std::nullopt;
  return std::string(f.c_str(), f.size());
}

// The room and its members, plus whether `caller` is one of them. Empty result = no room.
// The pinned ids as text ("3,1"): most recently pinned first, one probe of room_pins' key.
const std::string room_with_members_sql =
    "SELECT r.id, r.type, r.name, r.created_by, " CHAT_SQL_MS("r.created_at") ", "
    "       EXISTS (SELECT 1 FROM chat_room_members x WHERE x.room_id = r.id AND x.user_id = $2), "
    "       m.user_id, u.nickname, m.role, r.notice, "
    "       (SELECT string_agg(p.message_id::text, ',' ORDER BY p.pinned_at DESC, p.message_id DESC) "
    "        FROM room_pins p WHERE p.room_id = r.id) "
    "FROM chat_rooms r "
    "LEFT JOIN chat_room_members m ON m.room_id = r.id "
    "LEFT JOIN users u ON u.id = m.user_id "
    "WHERE r.id = $1 "
    "ORDER BY m.joined_at, m.user_id";

struct loaded_room {
  bool exists = false;
  bool caller_is_member = false;
  room_detail room;
};

loaded_room load_with_members(pqxx::transaction_base& tx, std::int64_t room_id, std::int64_t caller) {
  loaded_room out;
  const auto r = tx.exec_params(room_with_members_sql, room_id, caller);
  if (r.empty()) return out;
  out.exists = true;
  const auto& first = r[0];
  out.room.id = first[0].as<std::int64_t>();
  out.room.type = parse_room_type(detail::text_of(first[1]));
  out.room.name = optional_text(first[2]);
  out.room.created_by = first[3].as<std::int64_t>();
  out.room.created_at_ms = first[4].as<std::int64_t>();
  out.caller_is_member = first[5].as<bool>();
  out.room.notice = optional_text(first[9]);
  if (!first[10].is_null()) {
    const std::string_view ids = detail::text_of(first[10]);
    for (std::size_t begin = 0; begin < ids.size();) {
      auto end = ids.find(',', begin);
      if (end == std::string_view::npos) end = ids.size();
      std::int64_t id = 0;
      std::from_chars(ids.data() + begin, ids.data() + end, id);
      out.room.pinned.push_back(id);
      begin = end + 1;
    }
  }
  const bool direct = out.room.type == room_type::direct;
  for (const auto& row : r) {
    if (row[6].is_null()) continue;  // a room nobody is in any more
    room_member m{row[6].as<std::int64_t>(), row[7].is_null() ? std::string() : row[7].as<std::string>(),
                  proto::room_role::member};
    m.role = direct ? proto::room_role::admin
                    : proto::parse_room_role(detail::text_of(row[8])).value_or(proto::room_role::member);
    out.room.members.push_back(std::move(m));
  }
  return out;
}

// Ids of `ids` that name no user (in the order given).
std::vector<std::int64_t> unknown_users(pqxx::transaction_base& tx, const std::vector<std::int64_t>& ids) {
  std::vector<std::int64_t> out;
  if (ids.empty()) return out;
  const auto r = tx.exec_params(
      "SELECT x.id FROM unnest($1::bigint[]) WITH ORDINALITY AS x(id, pos) "
      "WHERE NOT EXISTS (SELECT 1 FROM users u WHERE u.id = x.id) ORDER BY x.pos",
      detail::bigint_array(ids));
  for (const auto& row : r) out.push_back(row[0].as<std::int64_t>());
  return out;
}

}  // namespace

std::string_view to_string(room_type type) noexcept {
  switch (type) {
    case room_type::direct: return "DIRECT";
    case room_type::group: return "GROUP";
  }
  return "GROUP";
}

room_access detail::query_access(session& db, std::int64_t room_id, std::int64_t user_id) {
  pqxx::nontransaction tx(db.native<pqxx::connection>());
  const auto r = tx.exec_params(
      "SELECT EXISTS (SELECT 1 FROM chat_room_members WHERE room_id = $1 AND user_id = $2), "
      "       EXISTS (SELECT 1 FROM chat_rooms WHERE id = $1)",
      room_id, user_id);
  if (r[0][0].as<bool>()) return room_access::granted;
  return r[0][1].as<bool>() ? room_access::not_a_member : room_access::no_such_room;
}

result<room_access> access_of(session& db, std::int64_t room_id, std::int64_t user_id) {
  return detail::guarded([&] { return detail::query_access(db, room_id, user_id); });
}

result<direct_room_outcome> open_direct_room(session& db, std::int64_t caller, std::int64_t target) {
  return detail::guarded([&]() -> result<direct_room_outcome> {
    auto& conn = db.native<pqxx::connection>();
    direct_room_outcome out;
    const std::int64_t low = std::min(caller, target);
    const std::int64_t high = std::max(caller, target);
    pqxx::work tx(conn);
    const auto missing = unknown_users(tx, {caller, target});
    if (std::find(missing.begin(), missing.end(), caller) != missing.end()) {
      out.st = direct_room_outcome::status::no_such_caller;
      return out;
    }
    if (!missing.empty()) {
      out.st = direct_room_outcome::status::no_such_target;
      return out;
    }
    if (detail::blocked_pair_in(tx, caller, target)) {
      out.st = direct_room_outcome::status::blocked;
      return out;
    }
    std::int64_t room_id = 0;
    // Look first (the common case: the room exists), insert only when missing. Under READ
    // COMMITTED, ON CONFLICT waits for a concurrent inserter of the same pair and then does
    // nothing; the next SELECT (a new snapshot) sees its committed row.
    for (int attempt = 0; attempt < 3 && room_id == 0; ++attempt) {
      const auto existing =
          tx.exec_params("SELECT id FROM chat_rooms WHERE direct_low = $1 AND direct_high = $2", low, high);
      if (!existing.empty()) {
        room_id = existing[0][0].as<std::int64_t>();
        out.st = direct_room_outcome::status::existing;
        break;
      }
      const auto inserted = tx.exec_params(
          "INSERT INTO chat_rooms (type, name, created_by, direct_low, direct_high) "
          "VALUES ('DIRECT', NULL, $1, $2, $3) ON CONFLICT (direct_low, direct_high) DO NOTHING RETURNING id",
          caller, low, high);
      if (!inserted.empty()) {
        room_id = inserted[0][0].as<std::int64_t>();
        tx.exec_params("INSERT INTO chat_room_members (room_id, user_id) VALUES ($1, $2), ($1, $3)", room_id, low,
                       high);
        out.st = direct_room_outcome::status::created;
      }
    }
    if (room_id == 0) {
      // Three rounds found no row and inserted none: not a state the constraints allow.
      return chat::unexpected(error{errc::internal, {}, "direct room neither inserted nor found"});
    }
    out.room = load_with_members(tx, room_id, caller).room;
    tx.commit();
    return out;
  });
}

result<group_room_outcome> create_group_room(session& db, std::int64_t caller, const std::string& name,
                                             const std::vector<std::int64_t>& member_ids) {
  return detail::guarded([&] {
    auto& conn = db.native<pqxx::connection>();
    group_room_outcome out;
    std::vector<std::int64_t> members{caller};  // the creator first
    members.reserve(member_ids.size() + 1);
    for (const auto id : member_ids) {
      if (id != caller) members.push_back(id);  // the parser already removed duplicates
    }
    pqxx::work tx(conn);
    auto missing = unknown_users(tx, members);
    if (!missing.empty() && missing.front() == caller) {
      out.st = group_room_outcome::status::no_such_caller;
      return out;
    }
    if (!missing.empty()) {
      out.st = group_room_outcome::status::unknown_users;
      out.unknown = std::move(missing);
      return out;
    }
    const auto room_id =
        tx.exec_params("INSERT INTO chat_rooms (type, name, created_by) VALUES ('GROUP', $1, $2) RETURNING id", name,
                       caller)[0][0]
            .as<std::int64_t>();
    // One statement for all members; WITH ORDINALITY keeps the joining order of the request. The
    // creator (first) owns the room (SPEC §16).
    tx.exec_params(
        "INSERT INTO chat_room_members (room_id, user_id, joined_at, role) "
        "SELECT $1, x.id, clock_timestamp(), CASE WHEN x.pos = 1 THEN 'OWNER' ELSE 'MEMBER' END "
        "FROM unnest($2::bigint[]) WITH ORDINALITY AS x(id, pos) ORDER BY x.pos "
        "ON CONFLICT DO NOTHING",
        room_id, detail::bigint_array(members));
    out.room = load_with_members(tx, room_id, caller).room;
    tx.commit();
    return out;
  });
}

// Newest-message lookups (here, in add_members and in history.cpp) pin the room with
// `room_id >= X AND room_id <= X` and order by `room_id, id DESC` -- the order of the
// messages(room_id, id DESC) index. With `room_id = X` PostgreSQL drops room_id from the sort
// key as constant and may then prefer a backward scan of the primary key filtered by room:
// it does so when one busy room dominates the statistics, and for a quiet room that plan
// reads the whole table. The range keeps room_id in the sort key, so only the composite
// index delivers the order, and btree still positions on (room, id) (both bounds inclusive).
namespace {

// The rows of GET /api/rooms: every room of `user_id`, or only `room_id` (> 0).
std::vector<room_summary> room_summaries(session& db, std::int64_t user_id, std::int64_t room_id) {
  auto& conn = db.native<pqxx::connection>();
#define CHAT_SQL_ROOM_SUMMARY_SELECT \
  "SELECT r.id, r.type, r.name, "                                                                                      \
  "       (SELECT count(*) FROM chat_room_members c WHERE c.room_id = r.id), "                                         \
  "       me.unread_count, " CHAT_SQL_MESSAGE_COLUMNS("lm") ", lm.deleted "                                            \
  "FROM chat_room_members me "                                                                                         \
  "JOIN chat_rooms r ON r.id = me.room_id "                                                                            \
  "LEFT JOIN LATERAL ("                                                                                                \
  "  SELECT m.id, m.message_key, m.room_id, m.sender_id, m.sender_nickname, m.content, m.type, m.created_at, "         \
  "         m.deleted "                                                                                                \
  "  FROM messages m WHERE m.room_id >= me.room_id AND m.room_id <= me.room_id "                                       \
  CHAT_SQL_NOT_BLOCKED("m.sender_id", "m.type", "me.user_id")                                                          \
  "  ORDER BY m.room_id, m.id DESC LIMIT 1) lm ON true "
  static const std::string all_name = "chat_list_rooms";
  static const std::string all_sql = CHAT_SQL_ROOM_SUMMARY_SELECT
      "WHERE me.user_id = $1 ORDER BY COALESCE(lm.created_at, r.created_at) DESC, r.id DESC";
  static const std::string one_name = "chat_room_summary";
  static const std::string one_sql = CHAT_SQL_ROOM_SUMMARY_SELECT "WHERE me.user_id = $1 AND me.room_id = $2";
#undef CHAT_SQL_ROOM_SUMMARY_SELECT
  pqxx::nontransaction tx(conn);
  pqxx::result r;
  if (room_id > 0) {
    detail::define(conn, one_name, one_sql);
    r = tx.exec_prepared(one_name, user_id, room_id);
  } else {
    detail::define(conn, all_name, all_sql);
    r = tx.exec_prepared(all_name, user_id);
  }
  std::vector<room_summary> out;
  out.reserve(static_cast<std::size_t>(r.size()));
  for (const auto& row : r) {
    room_summary s;
    s.id = row[0].as<std::int64_t>();
    s.type = parse_room_type(detail::text_of(row[1]));
    s.name = optional_text(row[2]);
    s.member_count = row[3].as<std::int64_t>();
    s.unread_count = row[4].as<std::int64_t>();
    if (!row[5].is_null()) {
      s.last_message = detail::read_message(row, 5);
      // A deleted message shows as its tombstone (SPEC §13): content empty, "deleted":true.
      if (row[5 + detail::message_column_count].as<bool>()) {
        s.last_message->content.clear();
        s.last_message->state = proto::message_state{};
        s.last_message->state->deleted = true;
      }
    }
    out.push_back(std::move(s));
  }
  return out;
}

}  // namespace

result<std::vector<room_summary>> list_rooms(session& db, std::int64_t user_id) {
  return detail::guarded([&] { return room_summaries(db, user_id, 0); });
}

result<std::optional<room_summary>> room_summary_of(session& db, std::int64_t user_id, std::int64_t room_id) {
  return detail::guarded([&]() -> std::optional<room_summary> {
    auto rows = room_summaries(db, user_id, room_id);
    if (rows.empty()) return std::nullopt;
    return std::move(rows.front());
  });
}

result<room_detail_outcome> load_room(session& db, std::int64_t room_id, std::int64_t caller) {
  return detail::guarded([&] {
    auto& conn = db.native<pqxx::connection>();
    room_detail_outcome out;
    pqxx::nontransaction tx(conn);
    auto loaded = load_with_members(tx, room_id, caller);
    if (!loaded.exists) {
      out.access = room_access::no_such_room;
    } else if (!loaded.caller_is_member) {
      out.access = room_access::not_a_member;
    } else {
      out.room = std::move(loaded.room);
    }
    return out;
  });
}

namespace {

// Whether `caller` may change the membership of group room `room_id` (docs/rest.md: members
// only, never a DIRECT room), as the status of the route's outcome type. Locks the room row
// (FOR NO KEY UPDATE): membership changes of one room run one at a time (store/room_admin.cpp
// takes the same lock), while the persistence consumer's FOR KEY SHARE does not wait.
template <class Status>
std::optional<Status> membership_change_refused(pqxx::work& tx, std::int64_t room_id, std::int64_t caller) {
  const auto room = tx.exec_params(
      "SELECT r.type, EXISTS (SELECT 1 FROM chat_room_members WHERE room_id = r.id AND user_id = $2) "
      "FROM chat_rooms r WHERE r.id = $1 FOR NO KEY UPDATE OF r",
      room_id, caller);
  if (room.empty()) return Status::no_such_room;
  if (!room[0][1].as<bool>()) return Status::not_a_member;
  if (parse_room_type(detail::text_of(room[0][0])) == room_type::direct) return Status::direct_room;
  return std::nullopt;
}

}  // namespace

result<add_members_outcome> add_members(session& db, std::int64_t room_id, std::int64_t caller,
                                        const std::vector<std::int64_t>& user_ids) {
  return detail::guarded([&] {
    auto& conn = db.native<pqxx::connection>();
    add_members_outcome out;
    pqxx::work tx(conn);
    if (const auto refused = membership_change_refused<add_members_outcome::status>(tx, room_id, caller)) {
      out.st = *refused;
      return out;
    }
    auto missing = unknown_users(tx, user_ids);
    if (!missing.empty()) {
      out.st = add_members_outcome::status::unknown_users;
      out.unknown = std::move(missing);
      return out;
    }
    const auto added = tx.exec_params(
        "WITH ins AS ("
        "  INSERT INTO chat_room_members (room_id, user_id, joined_at, last_read_message_id) "
        "  SELECT $1, x.id, clock_timestamp(), "
        "         COALESCE((SELECT id FROM messages WHERE room_id >= $1 AND room_id <= $1 "
        "                   ORDER BY room_id, id DESC LIMIT 1), 0) "
        "  FROM unnest($2::bigint[]) WITH ORDINALITY AS x(id, pos) ORDER BY x.pos "
        "  ON CONFLICT DO NOTHING RETURNING user_id, joined_at) "
        "SELECT ins.user_id, u.nickname FROM ins JOIN users u ON u.id = ins.user_id ORDER BY ins.joined_at",
        room_id, detail::bigint_array(user_ids));
    for (const auto& row : added) out.added.push_back({row[0].as<std::int64_t>(), row[1].as<std::string>()});
    out.room = load_with_members(tx, room_id, caller).room;
    tx.commit();
    return out;
  });
}

result<members_outcome> member_ids(session& db, std::int64_t room_id, std::int64_t caller) {
  return detail::guarded([&] {
    auto& conn = db.native<pqxx::connection>();
    members_outcome out;
    pqxx::nontransaction tx(conn);
    const auto r = tx.exec_params(
        "SELECT EXISTS (SELECT 1 FROM chat_room_members x WHERE x.room_id = r.id AND x.user_id = $2), m.user_id "
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
    for (const auto& row : r) {
      if (!row[1].is_null()) out.user_ids.push_back(row[1].as<std::int64_t>());
    }
    return out;
  });
}

}  // namespace chat::store
