#include "store/friends.hpp"

#include "store/sql_util.hpp"

#include <pqxx/pqxx>

#include <algorithm>

namespace chat::store {
namespace {

// A request row with both nicknames: id, from, from nickname, to, to nickname, created ms.
#define CHAT_SQL_REQUEST_COLUMNS(r) \
  r ".id, " r ".from_user_id, f.nickname, " r ".to_user_id, t.nickname, " CHAT_SQL_MS(r ".created_at")
#define CHAT_SQL_REQUEST_JOINS(r) " JOIN users f ON f.id = " r ".from_user_id JOIN users t ON t.id = " r ".to_user_id "

proto::friend_request to_request(const pqxx::row& row, proto::friend_request_status status) {
  proto::friend_request r;
  r.id = row[0].as<std::int64_t>();
  r.from_user_id = row[1].as<std::int64_t>();
  r.from_nickname = row[2].as<std::string>();
  r.to_user_id = row[3].as<std::int64_t>();
  r.to_nickname = row[4].as<std::string>();
  r.created_at_ms = row[5].as<std::int64_t>();
  r.status = status;
  return r;
}

std::pair<std::int64_t, std::int64_t> ordered(std::int64_t a, std::int64_t b) {
  return {std::min(a, b), std::max(a, b)};
}

proto::friend_request_status status_of(friend_answer answer) {
  switch (answer) {
    case friend_answer::accept: return proto::friend_request_status::accepted;
    case friend_answer::reject: return proto::friend_request_status::rejected;
    case friend_answer::cancel: return proto::friend_request_status::cancelled;
  }
  return proto::friend_request_status::pending;
}

}  // namespace

result<friend_request_result> create_friend_request(session& db, std::int64_t from, std::int64_t to) {
  return detail::guarded([&]() -> friend_request_result {
    pqxx::work tx(db.native<pqxx::connection>());
    // The sender's row lock serialises their requests: the pending count below stays true
    // until this transaction ends.
    tx.exec_params("SELECT 1 FROM users WHERE id = $1 FOR NO KEY UPDATE", from);
    if (tx.exec_params("SELECT 1 FROM users WHERE id = $1", to).empty()) {
      return {friend_request_outcome::no_such_user, std::nullopt};
    }
    const auto [low, high] = ordered(from, to);
    if (!tx.exec_params("SELECT 1 FROM friendships WHERE user_low = $1 AND user_high = $2", low, high).empty()) {
      return {friend_request_outcome::already_friends, std::nullopt};
    }
    // Blocks (SPEC §15): a pair where either blocks the other gets no request (403 blocked),
    // checked in this transaction before anything is written.
    if (detail::blocked_pair_in(tx, from, to)) return {friend_request_outcome::blocked, std::nullopt};
    const auto pending = tx.exec_params("SELECT " CHAT_SQL_REQUEST_COLUMNS("r") " FROM friend_requests r "
                                        CHAT_SQL_REQUEST_JOINS("r") "WHERE LEAST(r.from_user_id, r.to_user_id) = $1 "
                                        "AND GREATEST(r.from_user_id, r.to_user_id) = $2",
                                        low, high);
    if (!pending.empty()) {
      return {friend_request_outcome::pending, to_request(pending[0], proto::friend_request_status::pending)};
    }
    const auto count = tx.exec_params("SELECT count(*) FROM friend_requests WHERE from_user_id = $1", from);
    if (count[0][0].as<std::int64_t>() >= proto::max_pending_friend_requests) {
      return {friend_request_outcome::pending_limit, std::nullopt};
    }
    // A request B->A inserted since the check above (B's lock is not ours) loses or wins here:
    // the pair's UNIQUE index keeps one.
    const auto inserted = tx.exec_params(
        "WITH r AS (INSERT INTO friend_requests (from_user_id, to_user_id) VALUES ($1, $2) "
        "ON CONFLICT DO NOTHING RETURNING id, from_user_id, to_user_id, created_at) "
        "SELECT " CHAT_SQL_REQUEST_COLUMNS("r") " FROM r" CHAT_SQL_REQUEST_JOINS("r"),
        from, to);
    if (inserted.empty()) {
      return {friend_request_outcome::pending, std::nullopt};
    }
    auto request = to_request(inserted[0], proto::friend_request_status::pending);
    tx.commit();
    return {friend_request_outcome::created, std::move(request)};
  });
}

result<std::vector<proto::friend_request>> list_friend_requests(session& db, std::int64_t user_id, bool incoming) {
  static const std::string incoming_sql = "SELECT " CHAT_SQL_REQUEST_COLUMNS(
      "r") " FROM friend_requests r" CHAT_SQL_REQUEST_JOINS("r") "WHERE r.to_user_id = $1 ORDER BY r.id DESC LIMIT $2";
  static const std::string outgoing_sql =
      "SELECT " CHAT_SQL_REQUEST_COLUMNS("r") " FROM friend_requests r" CHAT_SQL_REQUEST_JOINS(
          "r") "WHERE r.from_user_id = $1 ORDER BY r.id DESC LIMIT $2";
  return detail::guarded([&] {
    pqxx::nontransaction tx(db.native<pqxx::connection>());
    const auto r = tx.exec_params(incoming ? incoming_sql : outgoing_sql, user_id, max_listed_friend_requests);
    std::vector<proto::friend_request> out;
    out.reserve(r.size());
    for (const auto& row : r) out.push_back(to_request(row, proto::friend_request_status::pending));
    return out;
  });
}

result<friend_answer_result> answer_friend_request(session& db, std::int64_t request_id, std::int64_t caller,
                                                   friend_answer answer) {
  return detail::guarded([&]() -> friend_answer_result {
    pqxx::work tx(db.native<pqxx::connection>());
    // Only the party the answer belongs to deletes the row; whoever deletes it first decides
    // (an accept racing a cancel: one of them finds nothing).
    const char* party = answer == friend_answer::cancel ? "from_user_id" : "to_user_id";
    const auto deleted =
        tx.exec_params(std::string("WITH r AS (DELETE FROM friend_requests WHERE id = $1 AND ") + party +
                           " = $2 RETURNING id, from_user_id, to_user_id, created_at) "
                           "SELECT " CHAT_SQL_REQUEST_COLUMNS("r") " FROM r" CHAT_SQL_REQUEST_JOINS("r"),
                       request_id, caller);
    if (deleted.empty()) {
      const auto row = tx.exec_params(
          "SELECT 1 FROM friend_requests WHERE id = $1 AND (from_user_id = $2 OR to_user_id = $2)", request_id, caller);
      // A request of others is "not found": nobody learns which requests exist.
      return {row.empty() ? friend_answer_outcome::not_found : friend_answer_outcome::not_yours, std::nullopt};
    }
    auto request = to_request(deleted[0], status_of(answer));
    // A request sent before a block (or racing one) cannot be accepted while it stands; it can
    // still be rejected or cancelled. Not committed: the row stays.
    if (answer == friend_answer::accept && detail::blocked_pair_in(tx, request.from_user_id, request.to_user_id)) {
      return {friend_answer_outcome::blocked, std::nullopt};
    }
    if (answer == friend_answer::accept) {
      const auto [low, high] = ordered(request.from_user_id, request.to_user_id);
      tx.exec_params("INSERT INTO friendships (user_low, user_high) VALUES ($1, $2) ON CONFLICT DO NOTHING", low, high);
    }
    tx.commit();
    return {friend_answer_outcome::done, std::move(request)};
  });
}

result<std::vector<person>> list_friends(session& db, std::int64_t user_id) {
  return detail::guarded([&] {
    pqxx::nontransaction tx(db.native<pqxx::connection>());
    const auto r = tx.exec_params(
        "SELECT u.id, u.nickname, u.status_message, u.avatar_url, " CHAT_SQL_MS("u.last_seen_at") " FROM ("
        "  SELECT user_high AS id, created_at FROM friendships WHERE user_low = $1"
        "  UNION ALL SELECT user_low, created_at FROM friendships WHERE user_high = $1) f "
        "JOIN users u ON u.id = f.id ORDER BY f.created_at, u.id LIMIT $2",
        user_id, max_listed_friends);
    std::vector<person> out;
    out.reserve(r.size());
    for (const auto& row : r) {
      person p;
      p.id = row[0].as<std::int64_t>();
      p.nickname = row[1].as<std::string>();
      p.status_message = detail::optional_text(row[2]);
      p.avatar_url = detail::optional_text(row[3]);
      p.last_seen_at_ms = detail::optional_int64(row[4]);
      out.push_back(std::move(p));
    }
    return out;
  });
}

result<bool> remove_friend(session& db, std::int64_t user_id, std::int64_t friend_id) {
  const auto [low, high] = ordered(user_id, friend_id);
  return detail::guarded([&] {
    pqxx::nontransaction tx(db.native<pqxx::connection>());
    return !tx.exec_params("DELETE FROM friendships WHERE user_low = $1 AND user_high = $2 RETURNING 1", low, high)
                .empty();
  });
}

}  // namespace chat::store
