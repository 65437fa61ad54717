#include "store/scheduled.hpp"

#include "store/sql_util.hpp"

#include <pqxx/pqxx>

namespace chat::store {
namespace {

// Unix milliseconds (a bigint parameter) as a timestamptz.
#define CHAT_SQL_FROM_MS(param) "(timestamptz 'epoch' + " param "::bigint * interval '1 millisecond')"

// The columns read_schedule() expects, for a scheduled_messages alias `s`.
#define CHAT_SQL_SCHEDULE_COLUMNS                                                                  \
  "s.id, s.room_id, s.author_id, s.content, s.repeat, " CHAT_SQL_MS("s.next_at") ", " CHAT_SQL_MS( \
      "s.first_at") ", " CHAT_SQL_MS("s.created_at")

template <class Row>
proto::scheduled_message read_schedule(const Row& row) {
  proto::scheduled_message s;
  s.id = row[0].template as<std::int64_t>();
  s.room_id = row[1].template as<std::int64_t>();
  s.author_id = row[2].template as<std::int64_t>();
  s.content.assign(row[3].c_str(), row[3].size());
  if (!row[4].is_null()) {
    s.repeat = proto::parse_schedule_repeat(detail::text_of(row[4])).value_or(proto::schedule_repeat::once);
  }
  s.send_at_ms = row[5].template as<std::int64_t>();
  s.first_send_at_ms = row[6].template as<std::int64_t>();
  s.created_at_ms = row[7].template as<std::int64_t>();
  return s;
}

// The room as the caller may use it for schedules: whether it exists, the caller is a member, and
// (DIRECT rooms) the pair blocks the other either way.
constexpr const char* room_gate_sql =
    "SELECT EXISTS (SELECT 1 FROM chat_room_members m WHERE m.room_id = r.id AND m.user_id = $2), "
    "       r.type = 'DIRECT' AND " CHAT_SQL_BLOCKED_PAIR("r.direct_low", "r.direct_high") " "
    "FROM chat_rooms r WHERE r.id = $1";

// The claim: due rows oldest first, those another node holds skipped. The author's membership and
// a DIRECT room's block state are read in the same statement (they decide whether it is sent).
constexpr const char* claim_sql =
    "SELECT s.id, s.room_id, s.author_id, u.nickname, s.content, s.repeat, " CHAT_SQL_MS("s.first_at") ", "
    "       " CHAT_SQL_MS("s.next_at") ", " CHAT_SQL_MS("s.created_at") ", "
    "       EXISTS (SELECT 1 FROM chat_room_members m WHERE m.room_id = s.room_id AND m.user_id = s.author_id), "
    "       r.type = 'DIRECT' AND " CHAT_SQL_BLOCKED_PAIR("r.direct_low", "r.direct_high") " "
    "FROM scheduled_messages s "
    "JOIN users u ON u.id = s.author_id "
    "JOIN chat_rooms r ON r.id = s.room_id "
    "WHERE s.status = 'active' AND s.next_at <= " CHAT_SQL_FROM_MS("$1") " "
    "ORDER BY s.next_at, s.id LIMIT $2 "
    "FOR UPDATE OF s SKIP LOCKED";

// next_ms -1: no next occurrence, the schedule is done.
constexpr const char* sent_sql =
    "UPDATE scheduled_messages s "
    "SET next_at = CASE WHEN u.next_ms >= 0 THEN timestamptz 'epoch' + u.next_ms * interval '1 millisecond' END, "
    "    status = CASE WHEN u.next_ms >= 0 THEN 'active' ELSE 'done' END, "
    "    last_sent_for = timestamptz 'epoch' + u.occurrence_ms * interval '1 millisecond', "
    "    sent_count = s.sent_count + 1 "
    "FROM unnest($1::bigint[], $2::bigint[], $3::bigint[]) AS u(id, occurrence_ms, next_ms) "
    "WHERE s.id = u.id AND s.status = 'active'";

constexpr const char* cancelled_sql =
    "UPDATE scheduled_messages s "
    "SET status = 'cancelled', next_at = NULL, cancelled_at = now(), cancel_reason = u.reason "
    "FROM unnest($1::bigint[], $2::text[]) AS u(id, reason) "
    "WHERE s.id = u.id AND s.status = 'active'";

// SQLSTATE of a lock not granted within lock_timeout.
constexpr std::string_view lock_not_available = "55P03";

std::string_view reason_name(schedule_cancel_reason reason) {
  switch (reason) {
    case schedule_cancel_reason::not_member: return "not_member";
    case schedule_cancel_reason::blocked: return "blocked";
  }
  return "not_member";
}

class pg_due_claim final : public due_claim {
 public:
  explicit pg_due_claim(pqxx::connection& conn) : tx_(conn) {}

  void load(std::int64_t now_ms, int limit) {
    for (const auto& row : tx_.exec_params(claim_sql, now_ms, limit)) {
      due_schedule s;
      s.id = row[0].as<std::int64_t>();
      s.room_id = row[1].as<std::int64_t>();
      s.author_id = row[2].as<std::int64_t>();
      s.author_nickname.assign(row[3].c_str(), row[3].size());
      s.content.assign(row[4].c_str(), row[4].size());
      if (!row[5].is_null()) {
        s.repeat = proto::parse_schedule_repeat(detail::text_of(row[5])).value_or(proto::schedule_repeat::once);
      }
      s.first_at_ms = row[6].as<std::int64_t>();
      s.next_at_ms = row[7].as<std::int64_t>();
      s.created_at_ms = row[8].as<std::int64_t>();
      s.author_is_member = row[9].as<bool>();
      s.blocked = !row[10].is_null() && row[10].as<bool>();
      schedules_.push_back(std::move(s));
    }
  }

  std::span<const due_schedule> schedules() const override { return schedules_; }

  void sent(std::int64_t id, std::int64_t occurrence_ms, std::optional<std::int64_t> next_at_ms) override {
    sent_ids_.push_back(id);
    sent_occurrences_.push_back(occurrence_ms);
    sent_next_.push_back(next_at_ms.value_or(-1));
  }

  void cancelled(std::int64_t id, schedule_cancel_reason reason) override {
    cancelled_ids_.push_back(id);
    cancelled_reasons_.push_back(reason_name(reason));
  }

  result<void> commit() override {
    return detail::guarded([&] {
      if (!sent_ids_.empty()) {
        tx_.exec_params(sent_sql, detail::bigint_array(sent_ids_), detail::bigint_array(sent_occurrences_),
                        detail::bigint_array(sent_next_));
      }
      if (!cancelled_ids_.empty()) {
        tx_.exec_params(cancelled_sql, detail::bigint_array(cancelled_ids_), detail::text_array(cancelled_reasons_));
      }
      tx_.commit();
    });
  }

 private:
  pqxx::work tx_;
  std::vector<due_schedule> schedules_;
  std::vector<std::int64_t> sent_ids_, sent_occurrences_, sent_next_;
  std::vector<std::int64_t> cancelled_ids_;
  std::vector<std::string_view> cancelled_reasons_;  // static strings (reason_name)
};

}  // namespace

result<schedule_created> create_schedule(session& db, std::int64_t room_id, std::int64_t author,
                                         const proto::schedule_request& request) {
  return detail::guarded([&] {
    pqxx::work tx(db.native<pqxx::connection>());
    schedule_created out;
    const auto gate = tx.exec_params(room_gate_sql, room_id, author);
    if (gate.empty()) {
      out.st = schedule_created::status::no_such_room;
      return out;
    }
    if (!gate[0][0].as<bool>()) {
      out.st = schedule_created::status::not_a_member;
      return out;
    }
    if (!gate[0][1].is_null() && gate[0][1].as<bool>()) {
      out.st = schedule_created::status::blocked;
      return out;
    }
    // The author's row lock serialises their POSTs: the count stays true until the commit.
    tx.exec_params("SELECT 1 FROM users WHERE id = $1 FOR NO KEY UPDATE", author);
    const auto active = tx.exec_params(
        "SELECT count(*) FROM scheduled_messages WHERE author_id = $1 AND status = 'active'", author)[0][0];
    if (active.as<std::int64_t>() >= proto::max_active_schedules_per_user) {
      out.st = schedule_created::status::limit_reached;
      return out;
    }
    const auto row = tx.exec_params(
        "INSERT INTO scheduled_messages (room_id, author_id, content, repeat, first_at, next_at) "
        "VALUES ($1, $2, $3, NULLIF($4, ''), " CHAT_SQL_FROM_MS("$5") ", " CHAT_SQL_FROM_MS("$5") ") "
        "RETURNING id, room_id, author_id, content, repeat, " CHAT_SQL_MS("next_at") ", " CHAT_SQL_MS(
            "first_at") ", " CHAT_SQL_MS("created_at"),
        room_id, author, request.content, std::string(proto::to_string(request.repeat)), request.send_at_ms);
    tx.commit();
    out.schedule = read_schedule(row[0]);
    return out;
  });
}

result<schedule_list> list_schedules(session& db, std::int64_t room_id, std::int64_t caller) {
  return detail::guarded([&] {
    schedule_list out;
    switch (detail::query_access(db, room_id, caller)) {
      case room_access::granted: break;
      case room_access::no_such_room: out.st = schedule_list::status::no_such_room; return out;
      case room_access::not_a_member: out.st = schedule_list::status::not_a_member; return out;
    }
    pqxx::nontransaction tx(db.native<pqxx::connection>());
    const auto r = tx.exec_params("SELECT " CHAT_SQL_SCHEDULE_COLUMNS
                                  " FROM scheduled_messages s "
                                  "WHERE s.author_id = $2 AND s.room_id = $1 AND s.status = 'active' "
                                  "ORDER BY s.next_at, s.id LIMIT $3",
                                  room_id, caller, proto::max_active_schedules_per_user);
    out.schedules.reserve(static_cast<std::size_t>(r.size()));
    for (const auto& row : r) out.schedules.push_back(read_schedule(row));
    return out;
  });
}

result<schedule_cancel_outcome> cancel_schedule(session& db, std::int64_t room_id, std::int64_t caller,
                                                std::int64_t schedule_id) {
  return detail::guarded([&] {
    switch (detail::query_access(db, room_id, caller)) {
      case room_access::granted: break;
      case room_access::no_such_room: return schedule_cancel_outcome::no_such_room;
      case room_access::not_a_member: return schedule_cancel_outcome::not_a_member;
    }
    pqxx::work tx(db.native<pqxx::connection>());
    // Waits for a scheduler holding the row (it is sending the occurrence due now, which takes
    // as long as Kafka's acknowledgement), then sees the row as that transaction left it. Not
    // longer than cancel_lock_timeout: a worker is not held for a whole --send-timeout.
    tx.exec("SET LOCAL lock_timeout = '" + std::to_string(cancel_lock_timeout.count()) + "ms'");
    pqxx::result row;
    try {
      row = tx.exec_params(
          "SELECT author_id FROM scheduled_messages WHERE id = $1 AND room_id = $2 AND status = 'active' "
          "FOR UPDATE",
          schedule_id, room_id);
    } catch (const pqxx::sql_error& e) {
      if (e.sqlstate() == lock_not_available) return schedule_cancel_outcome::busy;
      throw;
    }
    if (row.empty()) return schedule_cancel_outcome::not_found;
    if (row[0][0].as<std::int64_t>() != caller) return schedule_cancel_outcome::not_author;
    tx.exec_params(
        "UPDATE scheduled_messages SET status = 'cancelled', next_at = NULL, cancelled_at = now(), "
        "cancel_reason = 'deleted' WHERE id = $1",
        schedule_id);
    tx.commit();
    return schedule_cancel_outcome::cancelled;
  });
}

result<std::unique_ptr<due_claim>> claim_due_schedules(session& db, std::int64_t now_ms, int limit) {
  return detail::guarded([&]() -> std::unique_ptr<due_claim> {
    auto claim = std::make_unique<pg_due_claim>(db.native<pqxx::connection>());
    claim->load(now_ms, limit);
    return claim;
  });
}

#undef CHAT_SQL_SCHEDULE_COLUMNS
#undef CHAT_SQL_FROM_MS

}  // namespace chat::store
