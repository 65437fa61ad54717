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
