#include "store/membership.hpp"

#include "store/sql_util.hpp"

#include <pqxx/pqxx>

namespace chat::store {
namespace {

std::vector<std::int64_t> ids(const pqxx::result& r) {
  std::vector<std::int64_t> out;
  out.reserve(static_cast<std::size_t>(r.size()));
  for (const auto& row : r) out.push_back(row[0].as<std::int64_t>());
  return out;
}

}  // namespace

result<bool> is_member(session& db, std::int64_t room_id, std::int64_t user_id) {
  return detail::guarded([&] {
    pqxx::nontransaction tx(db.native<pqxx::connection>());
    return !tx.exec_params("SELECT 1 FROM chat_room_members WHERE room_id = $1 AND user_id = $2", room_id, user_id)
                .empty();
  });
}

namespace {

// The member_room columns of membership row `m` (user `user`) joined with its room `r`.
#define CHAT_SQL_MEMBER_ROOM_COLUMNS(user)                                      \
  "m.room_id, CASE WHEN r.type = 'DIRECT' THEN (CASE WHEN r.direct_low = " user \
  " THEN r.direct_high ELSE r.direct_low END) ELSE 0 END, "                     \
  "r.type = 'DIRECT' AND " CHAT_SQL_BLOCKED_PAIR("r.direct_low", "r.direct_high")

template <class Row>
member_room member_room_of(const Row& row) {
  return {row[0].template as<std::int64_t>(), row[1].is_null() ? 0 : row[1].template as<std::int64_t>(),
          row[2].template as<bool>()};
}

}  // namespace

result<std::optional<member_room>> membership_of(session& db, std::int64_t room_id, std::int64_t user_id) {
  return detail::guarded([&]() -> std::optional<member_room> {
    pqxx::nontransaction tx(db.native<pqxx::connection>());
    const auto r = tx.exec_params("SELECT " CHAT_SQL_MEMBER_ROOM_COLUMNS("$2") " FROM chat_room_members m "
                                  "JOIN chat_rooms r ON r.id = m.room_id WHERE m.room_id = $1 AND m.user_id = $2",
                                  room_id, user_id);
    if (r.empty()) return std::nullopt;
    return member_room_of(r[0]);
  });
}

result<std::vector<member_room>> member_rooms_of_user(session& db, std::int64_t user_id, std::size_t limit) {
  return detail::guarded([&] {
    pqxx::nontransaction tx(db.native<pqxx::connection>());
    const auto r = tx.exec_params("SELECT " CHAT_SQL_MEMBER_ROOM_COLUMNS("$1") " FROM chat_room_members m "
                                  "JOIN chat_rooms r ON r.id = m.room_id WHERE m.user_id = $1 "
                                  "ORDER BY m.room_id LIMIT $2",
                                  user_id, static_cast<std::int64_t>(limit));
    std::vector<member_room> out;
    out.reserve(static_cast<std::size_t>(r.size()));
    for (const auto& row : r) out.push_back(member_room_of(row));
    return out;
  });
}

#undef CHAT_SQL_MEMBER_ROOM_COLUMNS

result<bool> room_exists(session& db, std::int64_t room_id) {
  return detail::guarded([&] {
    pqxx::nontransaction tx(db.native<pqxx::connection>());
    return !tx.exec_params("SELECT 1 FROM chat_rooms WHERE id = $1", room_id).empty();
  });
}

result<std::vector<std::int64_t>> rooms_of_user(session& db, std::int64_t user_id, std::size_t limit) {
  return detail::guarded([&] {
    pqxx::nontransaction tx(db.native<pqxx::connection>());
    if (limit == 0) {
      return ids(tx.exec_params("SELECT room_id FROM chat_room_members WHERE user_id = $1 ORDER BY room_id", user_id));
    }
    return ids(tx.exec_params("SELECT room_id FROM chat_room_members WHERE user_id = $1 ORDER BY room_id LIMIT $2",
                              user_id, static_cast<std::int64_t>(limit)));
  });
}

result<std::vector<std::int64_t>> contacts_of_user(session& db, std::int64_t user_id) {
  return detail::guarded([&] {
    pqxx::nontransaction tx(db.native<pqxx::connection>());
    return ids(
        tx.exec_params("SELECT DISTINCT other.user_id FROM chat_room_members mine "
                       "JOIN chat_room_members other ON other.room_id = mine.room_id "
                       "WHERE mine.user_id = $1 AND other.user_id <> $1",
                       user_id));
  });
}

result<std::vector<std::int64_t>> members_of_room(session& db, std::int64_t room_id) {
  return detail::guarded([&] {
    pqxx::nontransaction tx(db.native<pqxx::connection>());
    return ids(tx.exec_params("SELECT user_id FROM chat_room_members WHERE room_id = $1 ORDER BY user_id", room_id));
  });
}

result<std::optional<std::string>> nickname_of(session& db, std::int64_t user_id) {
  return detail::guarded([&]() -> std::optional<std::string> {
    pqxx::nontransaction tx(db.native<pqxx::connection>());
    const auto r = tx.exec_params("SELECT nickname FROM users WHERE id = $1", user_id);
    if (r.empty()) return std::nullopt;
    return r[0][0].as<std::string>();
  });
}

}  // namespace chat::store
