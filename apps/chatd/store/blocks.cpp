#include "store/blocks.hpp"

#include "store/sql_util.hpp"

#include <chat/proto/names.hpp>

#include <pqxx/pqxx>

namespace chat::store {

result<block_outcome> block_user(session& db, std::int64_t blocker, std::int64_t blocked) {
  return detail::guarded([&]() -> block_outcome {
    pqxx::work tx(db.native<pqxx::connection>());
    if (tx.exec_params("SELECT 1 FROM users WHERE id = $1", blocked).empty()) return block_outcome::no_such_user;
    // The blocker's row lock serialises their blocks: the count below stays true until the commit.
    tx.exec_params("SELECT 1 FROM users WHERE id = $1 FOR NO KEY UPDATE", blocker);
    const auto r = tx.exec_params(
        "SELECT EXISTS (SELECT 1 FROM user_blocks WHERE blocker_id = $1 AND blocked_id = $2), "
        "       (SELECT count(*) FROM user_blocks WHERE blocker_id = $1)",
        blocker, blocked);
    if (r[0][0].as<bool>()) return block_outcome::already_blocked;
    if (r[0][1].as<std::int64_t>() >= proto::max_blocks_per_user) return block_outcome::limit_reached;
    tx.exec_params("INSERT INTO user_blocks (blocker_id, blocked_id) VALUES ($1, $2) ON CONFLICT DO NOTHING", blocker,
                   blocked);
    tx.commit();
    return block_outcome::blocked;
  });
}

result<bool> unblock_user(session& db, std::int64_t blocker, std::int64_t blocked) {
  return detail::guarded([&] {
    pqxx::nontransaction tx(db.native<pqxx::connection>());
    return tx.exec_params("DELETE FROM user_blocks WHERE blocker_id = $1 AND blocked_id = $2", blocker, blocked)
               .affected_rows() > 0;
  });
}

result<std::vector<proto::blocked_user>> list_blocks(session& db, std::int64_t blocker) {
  return detail::guarded([&] {
    pqxx::nontransaction tx(db.native<pqxx::connection>());
    const auto r = tx.exec_params(
        "SELECT b.blocked_id, u.nickname, " CHAT_SQL_MS("b.created_at") " FROM user_blocks b "
        "JOIN users u ON u.id = b.blocked_id "
        "WHERE b.blocker_id = $1 ORDER BY b.created_at DESC, b.blocked_id DESC LIMIT $2",
        blocker, proto::max_blocks_per_user);
    std::vector<proto::blocked_user> out;
    out.reserve(static_cast<std::size_t>(r.size()));
    for (const auto& row : r) {
      out.push_back({row[0].as<std::int64_t>(), row[1].as<std::string>(), row[2].as<std::int64_t>()});
    }
    return out;
  });
}

result<std::vector<std::int64_t>> blocked_ids(session& db, std::int64_t blocker, std::size_t limit) {
  return detail::guarded([&] {
    pqxx::nontransaction tx(db.native<pqxx::connection>());
    const auto r =
        tx.exec_params("SELECT blocked_id FROM user_blocks WHERE blocker_id = $1 ORDER BY blocked_id LIMIT $2", blocker,
                       static_cast<std::int64_t>(limit));
    std::vector<std::int64_t> out;
    out.reserve(static_cast<std::size_t>(r.size()));
    for (const auto& row : r) out.push_back(row[0].as<std::int64_t>());
    return out;
  });
}

result<bool> is_blocked_pair(session& db, std::int64_t a, std::int64_t b) {
  return detail::guarded([&] {
    pqxx::nontransaction tx(db.native<pqxx::connection>());
    return detail::blocked_pair_in(tx, a, b);
  });
}

bool publish_block_change(redis::client& redis, const proto::block_change& change) {
  std::string json;
  proto::append_json(change, json);
  const auto reply = redis.command({"PUBLISH", std::string(proto::redis_names::blocks_channel), json});
  return reply && reply->type != redis::reply::kind::error;
}

}  // namespace chat::store
