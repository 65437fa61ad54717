#include "store/room_admin.hpp"

#include "core/room_roles.hpp"
#include "store/sql_util.hpp"

#include <pqxx/pqxx>

#include <algorithm>

namespace chat::store {
namespace {

struct member_row {
  std::int64_t user_id = 0;
  std::string nickname;
  proto::room_role role = proto::room_role::member;
  std::int64_t joined_us = 0;
};

// The room row and its member rows, locked (see room_admin.hpp). Members in joining order, the
// longest-standing first.
struct locked_room {
  bool exists = false;
  bool direct = false;
  std::optional<std::string> name;
  std::optional<std::string> notice;
  std::vector<member_row> members;

  const member_row* find(std::int64_t user_id) const {
    const auto it = std::find_if(members.begin(), members.end(), [&](const auto& m) { return m.user_id == user_id; });
    return it == members.end() ? nullptr : &*it;
  }
};

enum class room_lock { no_key_update, update };

locked_room lock_room(pqxx::work& tx, std::int64_t room_id, room_lock mode) {
  locked_room out;
  const auto room = tx.exec_params(mode == room_lock::update
                                       ? "SELECT type, name, notice FROM chat_rooms WHERE id = $1 FOR UPDATE"
                                       : "SELECT type, name, notice FROM chat_rooms WHERE id = $1 FOR NO KEY UPDATE",
                                   room_id);
  if (room.empty()) return out;
  out.exists = true;
  out.direct = detail::text_of(room[0][0]) == "DIRECT";
  out.name = detail::optional_text(room[0][1]);
  out.notice = detail::optional_text(room[0][2]);
  // In user order, as the consumers lock them (store/message_writer.cpp).
  const auto rows = tx.exec_params(
      "SELECT m.user_id, u.nickname, m.role, (extract(epoch FROM m.joined_at) * 1000000)::bigint "
      "FROM chat_room_members m JOIN users u ON u.id = m.user_id "
      "WHERE m.room_id = $1 ORDER BY m.user_id FOR UPDATE OF m",
      room_id);
  out.members.reserve(static_cast<std::size_t>(rows.size()));
  for (const auto& row : rows) {
    out.members.push_back({row[0].as<std::int64_t>(), row[1].as<std::string>(),
                           proto::parse_room_role(detail::text_of(row[2])).value_or(proto::room_role::member),
                           row[3].as<std::int64_t>()});
  }
  std::stable_sort(out.members.begin(), out.members.end(), [](const member_row& a, const member_row& b) {
    return a.joined_us != b.joined_us ? a.joined_us < b.joined_us : a.user_id < b.user_id;
  });
  return out;
}

// The common checks: the room exists, the caller is in it, core/room_roles.hpp allows `action`
// (on `target`, 0: none). False with `out` filled when the request stops here.
bool admitted(const locked_room& room, std::int64_t caller, chatd::admin_action action, std::int64_t target,
              admin_outcome& out) {
  if (!room.exists) {
    out.st = admin_outcome::status::no_such_room;
    return false;
  }
  const member_row* me = room.find(caller);
  if (me == nullptr) {
    out.st = admin_outcome::status::not_a_member;
    return false;
  }
  chatd::admin_context ctx;
  ctx.direct_room = room.direct;
  ctx.actor = me->role;
  if (target != 0) {
    ctx.target_is_actor = target == caller;
    if (const member_row* t = room.find(target)) ctx.target = t->role;
  }
  if (auto refusal = chatd::check_admin_action(action, ctx)) {
    out.st = admin_outcome::status::refused;
    out.refusal = std::move(*refusal);
    return false;
  }
  out.actor_nickname = me->nickname;
  return true;
}

void set_role(pqxx::work& tx, std::int64_t room_id, std::int64_t user_id, proto::room_role role) {
  tx.exec_params("UPDATE chat_room_members SET role = $3 WHERE room_id = $1 AND user_id = $2", room_id, user_id,
                 std::string(proto::to_string(role)));
}

// The room and everything of it (ON DELETE CASCADE), leaving its tombstone.
void delete_locked(pqxx::work& tx, std::int64_t room_id, std::int64_t caller) {
  tx.exec_params("INSERT INTO deleted_rooms (id, deleted_by) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING", room_id,
                 caller);
  tx.exec_params("DELETE FROM chat_rooms WHERE id = $1", room_id);
}

}  // namespace

result<room_update_outcome> update_room(session& db, std::int64_t room_id, std::int64_t caller,
                                        const std::optional<std::string>& name,
                                        const std::optional<std::string>& notice) {
  return detail::guarded([&] {
    pqxx::work tx(db.native<pqxx::connection>());
    room_update_outcome out;
    const auto room = lock_room(tx, room_id, room_lock::no_key_update);
    if (!admitted(room, caller, chatd::admin_action::update_room, 0, out)) return out;
    if (name && name != room.name) out.name = name;
    if (notice && (notice->empty() ? room.notice.has_value() : room.notice != notice)) out.notice = notice;
    if (!out.name && !out.notice) {
      out.st = admin_outcome::status::unchanged;
      return out;
    }
    tx.exec_params(
        "UPDATE chat_rooms SET name = CASE WHEN $2 THEN $3 ELSE name END, "
        "                      notice = CASE WHEN $4 THEN NULLIF($5, '') ELSE notice END "
        "WHERE id = $1",
        room_id, out.name.has_value(), out.name.value_or(""), out.notice.has_value(), out.notice.value_or(""));
    tx.commit();
    return out;
  });
}

result<set_role_outcome> set_member_role(session& db, std::int64_t room_id, std::int64_t caller, std::int64_t target,
                                         proto::room_role role) {
  return detail::guarded([&] {
    pqxx::work tx(db.native<pqxx::connection>());
    set_role_outcome out;
    const auto room = lock_room(tx, room_id, room_lock::no_key_update);
    if (!admitted(room, caller, chatd::admin_action::set_role, target, out)) return out;
    const member_row& t = *room.find(target);
    if (t.role == role) {
      out.st = admin_outcome::status::unchanged;
      return out;
    }
    if (role == proto::room_role::owner) {
      // One owner at a time (a unique index): the caller steps down first.
      set_role(tx, room_id, caller, proto::room_role::admin);
      set_role(tx, room_id, target, proto::room_role::owner);
      out.changes.push_back({target, t.nickname, proto::room_role::owner});
      out.changes.push_back({caller, out.actor_nickname, proto::room_role::admin});
    } else {
      set_role(tx, room_id, target, role);
      out.changes.push_back({target, t.nickname, role});
    }
    tx.commit();
    return out;
  });
}

result<remove_outcome> remove_member(session& db, std::int64_t room_id, std::int64_t caller, std::int64_t target) {
  return detail::guarded([&] {
    pqxx::work tx(db.native<pqxx::connection>());
    remove_outcome out;
    const auto room = lock_room(tx, room_id, room_lock::no_key_update);
    if (!admitted(room, caller, chatd::admin_action::remove_member, target, out)) return out;
    out.nickname = room.find(target)->nickname;
    tx.exec_params("DELETE FROM chat_room_members WHERE room_id = $1 AND user_id = $2", room_id, target);
    tx.commit();
    return out;
  });
}

result<delete_outcome> delete_room(session& db, std::int64_t room_id, std::int64_t caller) {
  return detail::guarded([&] {
    pqxx::work tx(db.native<pqxx::connection>());
    delete_outcome out;
    const auto room = lock_room(tx, room_id, room_lock::update);
    if (!admitted(room, caller, chatd::admin_action::delete_room, 0, out)) return out;
    for (const auto& m : room.members) out.members.push_back(m.user_id);
    delete_locked(tx, room_id, caller);
    tx.commit();
    return out;
  });
}

result<leave_outcome> leave_room(session& db, std::int64_t room_id, std::int64_t caller) {
  return detail::guarded([&] {
    pqxx::work tx(db.native<pqxx::connection>());
    leave_outcome out;
    // FOR UPDATE: the last member's leave deletes the room.
    const auto room = lock_room(tx, room_id, room_lock::update);
    if (!room.exists) {
      out.st = leave_outcome::status::no_such_room;
      return out;
    }
    const member_row* me = room.find(caller);
    if (me == nullptr) {
      out.st = leave_outcome::status::not_a_member;
      return out;
    }
    if (room.direct) {
      out.st = leave_outcome::status::direct_room;
      return out;
    }
    out.nickname = me->nickname;
    if (room.members.size() == 1) {
      delete_locked(tx, room_id, caller);
      out.room_deleted = true;
    } else {
      tx.exec_params("DELETE FROM chat_room_members WHERE room_id = $1 AND user_id = $2", room_id, caller);
      if (me->role == proto::room_role::owner) {
        std::vector<chatd::member_standing> standing;
        standing.reserve(room.members.size());
        for (const auto& m : room.members) standing.push_back({m.user_id, m.role});
        if (const auto next = chatd::ownership_successor(standing, caller)) {
          set_role(tx, room_id, *next, proto::room_role::owner);
          out.new_owner = role_change{*next, room.find(*next)->nickname, proto::room_role::owner};
        }
      }
    }
    tx.commit();
    return out;
  });
}

}  // namespace chat::store
