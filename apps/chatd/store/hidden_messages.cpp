#include "store/hidden_messages.hpp"

#include "store/sql_util.hpp"

#include <chat/proto/events.hpp>
#include <chat/proto/names.hpp>

#include <pqxx/pqxx>

namespace chat::store {

result<bool> hide_message(session& db, std::int64_t user_id, std::int64_t room_id, std::int64_t message_id) {
  return detail::guarded([&] {
    pqxx::nontransaction tx(db.native<pqxx::connection>());
    // From messages, so that a message of another room (or none) inserts nothing.
    const auto r = tx.exec_params(
        "INSERT INTO message_hidden (user_id, message_id, room_id) "
        "SELECT $1, id, room_id FROM messages WHERE id = $2 AND room_id = $3 "
        "ON CONFLICT (user_id, message_id) DO NOTHING",
        user_id, message_id, room_id);
    return r.affected_rows() > 0;
  });
}

bool publish_message_hidden(redis::client& redis, std::int64_t user_id, std::int64_t room_id, std::int64_t message_id) {
  std::string json;
  proto::append_json(proto::message_hidden_event{room_id, message_id}, json);
  const auto channel = proto::user_channel(user_id);
  const auto reply = redis.command({"PUBLISH", channel, json});
  return reply && reply->type != redis::reply::kind::error;
}

}  // namespace chat::store
