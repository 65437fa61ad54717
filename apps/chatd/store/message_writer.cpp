#include "store/message_writer.hpp"

#include "store/connection.hpp"
#include "store/sql_util.hpp"

#include <chat/proto/names.hpp>

#include <nlohmann/json.hpp>
#include <pqxx/pqxx>

#include <algorithm>
#include <deque>
#include <map>
#include <unordered_map>
#include <unordered_set>

namespace chat::store {
namespace {

// The unread cache's version of a member row: µs of the clock while the row is locked, so a
// later transaction on that row has a larger one (pipeline/unread_cache.hpp).
#define CHAT_SQL_UNREAD_VERSION "(extract(epoch FROM clock_timestamp()) * 1000000)::bigint"

// The batch's rooms, locked against deletion until the commit (DELETE /api/rooms/{id} takes
// FOR UPDATE on the row, store/room_admin.cpp): a room deleted before this statement is simply not
// returned (also after waiting for a delete in progress), one deleted after it waits for this
// transaction and takes the rows stored here with it.
constexpr const char* lock_rooms_sql = "SELECT id FROM chat_rooms WHERE id = ANY($1::bigint[]) FOR KEY SHARE";

// Senders, and which of the rooms were deleted: a statement of its own after the lock, so that its
// snapshot sees the tombstone of a delete the lock waited for.
constexpr const char* known_ids_sql =
    "SELECT 'u', id FROM users WHERE id = ANY($2::bigint[]) "
    "UNION ALL SELECT 'd', id FROM deleted_rooms WHERE id = ANY($1::bigint[])";

constexpr const char* insert_sql =
    "INSERT INTO messages (id, message_key, room_id, sender_id, sender_nickname, content, type, "
    "                      kafka_partition, kafka_offset, created_at, reply_to_id, thread_root_id, "
    "                      attachment, attachment_file_id, forwarded_from, scheduled_for, event, event_data) "
    "SELECT t.id, t.message_key, t.room_id, t.sender_id, t.sender_nickname, t.content, t.type, "
    "       t.kafka_partition, t.kafka_offset, timestamptz 'epoch' + t.created_ms * interval '1 millisecond', "
    "       NULLIF(t.reply_to_id, 0), NULLIF(t.thread_root_id, 0), NULLIF(t.attachment, '')::jsonb, "
    "       NULLIF(t.file_id, '')::uuid, NULLIF(t.forwarded_from, '')::jsonb, "
    "       timestamptz 'epoch' + NULLIF(t.scheduled_ms, '')::bigint * interval '1 millisecond', "
    "       NULLIF(t.event, ''), NULLIF(t.event_data, '')::jsonb "
    "FROM unnest($1::bigint[], $2::uuid[], $3::bigint[], $4::bigint[], $5::text[], $6::text[], $7::text[], "
    "            $8::int[], $9::bigint[], $10::bigint[], $11::bigint[], $12::bigint[], $13::text[], $14::text[], "
    "            $15::text[], $16::text[], $17::text[], $18::text[]) "
    "     WITH ORDINALITY AS t(id, message_key, room_id, sender_id, sender_nickname, content, type, "
    "                          kafka_partition, kafka_offset, created_ms, reply_to_id, thread_root_id, "
    "                          attachment, file_id, forwarded_from, scheduled_ms, event, event_data, ord) "
    "ORDER BY t.ord "
    "ON CONFLICT (message_key) DO NOTHING "
    "RETURNING id, room_id, sender_id, COALESCE(thread_root_id, 0), " CHAT_SQL_MS("created_at");

// The thread roots of the replies just inserted: one UPDATE for all (a root of another room is
// not counted: the gateway's checks prevent it, a record produced around them cannot count).
constexpr const char* replies_sql =
    "UPDATE messages m SET reply_count = m.reply_count + d.n, last_reply_at = GREATEST(m.last_reply_at, d.last) "
    "FROM (SELECT t.root, t.room_id, count(*)::int AS n, "
    "             max(timestamptz 'epoch' + t.created_ms * interval '1 millisecond') AS last "
    "      FROM unnest($1::bigint[], $2::bigint[], $3::bigint[]) AS t(root, room_id, created_ms) "
    "      GROUP BY t.root, t.room_id) AS d "
    "WHERE m.id = d.root AND m.room_id = d.room_id";

// The other room events: applied = true until the fold says otherwise. Only the rows
// returned are new; a messageKey seen before (a redelivery, a client retry) applies nothing.
// Two consumers racing over the same records (a rebalance) queue on the unique index: the
// second one's INSERT waits for the first's commit, then returns nothing.
constexpr const char* insert_events_sql =
    "INSERT INTO room_events (id, message_key, room_id, sender_id, sender_nickname, event, target_id, "
    "                         content, emoji, applied, created_at, preview) "
    "SELECT t.id, t.message_key, t.room_id, t.sender_id, t.sender_nickname, t.event, t.target_id, "
    "       CASE WHEN t.event = 'message.edited' THEN t.content END, NULLIF(t.emoji, ''), true, "
    "       timestamptz 'epoch' + t.created_ms * interval '1 millisecond', "
    "       CASE WHEN t.event = 'message.preview' THEN NULLIF(t.preview, '')::jsonb END "
    "FROM unnest($1::bigint[], $2::uuid[], $3::bigint[], $4::bigint[], $5::text[], $6::text[], $7::bigint[], "
    "            $8::text[], $9::text[], $10::bigint[], $11::text[]) "
    "     WITH ORDINALITY AS t(id, message_key, room_id, sender_id, sender_nickname, event, target_id, "
    "                          content, emoji, created_ms, preview, ord) "
    "ORDER BY t.ord "
    "ON CONFLICT (message_key) DO NOTHING "
    "RETURNING id";

// The state of the new events' targets (store::event_target), after this transaction's
// inserts: a target inserted earlier in the batch is there.
constexpr const char* targets_sql =
    "SELECT m.id, m.room_id, m.sender_id, m.type, m.deleted, " CHAT_SQL_MS("m.created_at") ", "
    "       EXISTS (SELECT 1 FROM room_pins p WHERE p.room_id = m.room_id AND p.message_id = m.id), "
    "       (SELECT count(*) FROM room_pins p WHERE p.room_id = m.room_id)::int "
    "FROM messages m WHERE m.id = ANY($1::bigint[])";

// The folded effects (store::event_effects), each a set-based statement run only when it has rows.
constexpr const char* update_messages_sql =
    "UPDATE messages m SET content = u.content, "
    "    edited_at = CASE WHEN u.edited THEN timestamptz 'epoch' + u.edited_ms * interval '1 millisecond' "
    "                     ELSE m.edited_at END, "
    "    deleted = m.deleted OR u.deleted, "
    "    attachment = CASE WHEN u.deleted THEN NULL ELSE m.attachment END, "
    "    attachment_file_id = CASE WHEN u.deleted THEN NULL ELSE m.attachment_file_id END, "
    "    preview = CASE WHEN u.deleted THEN NULL ELSE m.preview END "
    "FROM unnest($1::bigint[], $2::text[], $3::bool[], $4::bigint[], $5::bool[]) "
    "     AS u(id, content, edited, edited_ms, deleted) "
    "WHERE m.id = u.id";

constexpr const char* delete_reactions_sql =
    "DELETE FROM message_reactions r WHERE r.message_id = ANY($1::bigint[]) "
    "   OR (r.message_id, r.emoji, r.user_id) IN "
    "      (SELECT * FROM unnest($2::bigint[], $3::text[], $4::bigint[]))";

constexpr const char* insert_reactions_sql =
    "INSERT INTO message_reactions (message_id, emoji, user_id, event_id) "
    "SELECT * FROM unnest($1::bigint[], $2::text[], $3::bigint[], $4::bigint[]) "
    "ON CONFLICT (message_id, emoji, user_id) DO NOTHING";

// Link previews (message.preview): never onto a tombstone, whatever an earlier batch did.
constexpr const char* update_previews_sql =
    "UPDATE messages m SET preview = p.preview::jsonb "
    "FROM unnest($1::bigint[], $2::text[]) AS p(id, preview) "
    "WHERE m.id = p.id AND NOT m.deleted";

constexpr const char* delete_pins_sql = "DELETE FROM room_pins WHERE message_id = ANY($1::bigint[])";

constexpr const char* insert_pins_sql =
    "INSERT INTO room_pins (room_id, message_id, pinned_by, pinned_at) "
    "SELECT t.room_id, t.message_id, t.pinned_by, timestamptz 'epoch' + t.pinned_ms * interval '1 millisecond' "
    "FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::bigint[]) AS t(room_id, message_id, pinned_by, "
    "                                                                          pinned_ms) "
    "ON CONFLICT (room_id, message_id) DO NOTHING";

// How far the batch got per partition (sql/0004): forwards only, so a redelivered batch, or
// two consumers overlapping after a rebalance, never move it back. Partitions in ascending
// order (progress_arrays sorts them): overlapping transactions lock the rows in one order.
constexpr const char* progress_sql =
    "INSERT INTO persistence_progress AS p (topic, partition, next_offset) "
    "SELECT $1, t.partition, t.next_offset FROM unnest($2::int[], $3::bigint[]) AS t(partition, next_offset) "
    "ON CONFLICT (topic, partition) DO UPDATE "
    "SET next_offset = GREATEST(p.next_offset, EXCLUDED.next_offset), updated_at = now() "
    "WHERE EXCLUDED.next_offset > p.next_offset";

constexpr const char* not_applied_sql = "UPDATE room_events SET applied = false WHERE id = ANY($1::bigint[])";

// Row locks in one global order, so that two transactions touching the same members
// (this consumer on another node after a rebalance, the read-receipts consumer) queue up
// instead of deadlocking, and the UPDATE below sees last_read_message_id as committed.
constexpr const char* lock_members_sql =
    "SELECT 1 FROM chat_room_members WHERE room_id = ANY($1::bigint[]) ORDER BY room_id, user_id FOR UPDATE";

// For each member: how many of the new messages were sent by someone else, someone the member
// does not block (SPEC §15: a probe of user_blocks' primary key per (message, member) pair, in this
// one statement), and are newer than what the member has read (a receipt can overtake
// persistence: the member saw the message live). Message id 0 (partition 0, offset 0) is always
// unread when stored: last_read_message_id 0 is also the column's "nothing read yet".
constexpr const char* unread_sql =
    "UPDATE chat_room_members m SET unread_count = m.unread_count + d.n "
    "FROM (SELECT mm.room_id, mm.user_id, count(*)::int AS n "
    "      FROM unnest($1::bigint[], $2::bigint[], $3::bigint[]) AS t(id, room_id, sender_id) "
    "      JOIN chat_room_members mm ON mm.room_id = t.room_id "
    "           AND mm.user_id <> t.sender_id AND (t.id > mm.last_read_message_id OR t.id = 0) "
    "      WHERE NOT EXISTS (SELECT 1 FROM user_blocks ub WHERE ub.blocker_id = mm.user_id "
    "                        AND ub.blocked_id = t.sender_id) "
    "      GROUP BY mm.room_id, mm.user_id) AS d "
    "WHERE m.room_id = d.room_id AND m.user_id = d.user_id "
    "RETURNING m.room_id, m.user_id, m.unread_count, m.last_read_message_id, " CHAT_SQL_UNREAD_VERSION;

// Also the marks as they were before this transaction (the rows stay locked until it ends), so
// the consumer knows which marks moved (the live read events, pipeline/receipts_handler.hpp).
constexpr const char* lock_marks_sql =
    "SELECT m.room_id, m.user_id, m.last_read_message_id FROM chat_room_members m "
    "JOIN unnest($1::bigint[], $2::bigint[]) AS r(room_id, user_id) "
    "  ON m.room_id = r.room_id AND m.user_id = r.user_id "
    "ORDER BY m.room_id, m.user_id FOR UPDATE OF m";

// SET expressions see the row as it was before this UPDATE, so GREATEST(...) is the new
// last-read in both places.
constexpr const char* update_marks_sql =
    "UPDATE chat_room_members m "
    "SET last_read_message_id = GREATEST(m.last_read_message_id, r.last_read), "
    "    unread_count = (SELECT count(*) FROM messages msg "
    "                    WHERE msg.room_id = m.room_id AND msg.sender_id <> m.user_id "
    "                      AND msg.id > GREATEST(m.last_read_message_id, r.last_read) "
    "                      AND NOT EXISTS (SELECT 1 FROM user_blocks ub WHERE ub.blocker_id = m.user_id "
    "                                      AND ub.blocked_id = msg.sender_id))::int "
    "FROM unnest($1::bigint[], $2::bigint[], $3::bigint[]) AS r(room_id, user_id, last_read) "
    "WHERE m.room_id = r.room_id AND m.user_id = r.user_id "
    "RETURNING m.room_id, m.user_id, m.unread_count, m.last_read_message_id, " CHAT_SQL_UNREAD_VERSION;

#undef CHAT_SQL_UNREAD_VERSION

template <class Row>
unread_change unread_of(const Row& row) {
  return {row[0].template as<std::int64_t>(), row[1].template as<std::int64_t>(), row[2].template as<std::int64_t>(),
          row[3].template as<std::int64_t>(), row[4].template as<std::int64_t>()};
}

// {t,f,...} for a `$n::bool[]` parameter.
std::string bool_array(const std::vector<bool>& values) {
  std::string out = "{";
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (i != 0) out.push_back(',');
    out.push_back(values[i] ? 't' : 'f');
  }
  out.push_back('}');
  return out;
}

// The jsonb columns, as the event JSON has them (store/history.cpp reads them back). Never
// throws on text that is not UTF-8 (the record was validated; an exception here would read as
// an infrastructure failure and stall the partition): such bytes become U+FFFD.
std::string dump(const nlohmann::json& doc) {
  return doc.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string attachment_json(const proto::file_attachment& a) {
  nlohmann::json doc{{"url", a.url}, {"name", a.name}, {"size", a.size}, {"mimeType", a.mime_type}};
  if (a.width) doc["width"] = *a.width;
  if (a.height) doc["height"] = *a.height;
  return dump(doc);
}

std::string forwarded_json(const proto::forward_origin& f) {
  return dump({{"roomId", f.room_id}, {"messageId", f.message_id}, {"senderNickname", f.sender_nickname}});
}

// messages.event_data of an event kept as a SYSTEM history item: its own members
// (store/recovery.cpp reads them back).
std::string event_data_json(const proto::chat_message& m) {
  nlohmann::json doc = nlohmann::json::object();
  if (m.user_id > 0) doc["userId"] = m.user_id;
  if (m.role) doc["role"] = std::string(proto::to_string(*m.role));
  if (m.name) doc["name"] = *m.name;
  if (m.notice) doc["notice"] = *m.notice;
  return dump(doc);
}

// The `message` events of the batch and the events kept as SYSTEM history items: INSERT, the
// thread roots' reply counts, the unread counts.
void insert_messages(pqxx::work& tx, std::span<const message_row> rows, const std::vector<std::size_t>& which,
                     persisted& out) {
  std::vector<std::int64_t> ids, room_ids, sender_ids, partitions, offsets, created, reply_to, roots;
  std::vector<std::string_view> keys, nicknames, contents, types, attachments, file_ids, forwarded, scheduled, events,
      event_data;
  std::deque<std::string>
      json;  // owns what `attachments`, `file_ids`, `forwarded`, `scheduled` and `event_data` view (stable)
  auto own = [&json](std::string s) -> std::string_view { return json.emplace_back(std::move(s)); };
  for (const std::size_t i : which) {
    const auto& m = *rows[i].message;
    ids.push_back(m.id);
    keys.push_back(m.message_key);
    room_ids.push_back(m.room_id);
    sender_ids.push_back(m.sender_id);
    nicknames.push_back(m.sender_nickname);
    contents.push_back(m.content);
    types.push_back(proto::to_string(m.type));
    partitions.push_back(rows[i].partition);
    offsets.push_back(rows[i].offset);
    created.push_back(m.created_at_ms);
    reply_to.push_back(m.reply_to_id);
    roots.push_back(m.reply_to_id > 0 ? (m.thread_root_id > 0 ? m.thread_root_id : m.reply_to_id) : 0);
    if (m.attachment) {
      attachments.push_back(own(attachment_json(*m.attachment)));
      file_ids.push_back(own(proto::attachment_file_id(m.attachment->url).value_or("")));
    } else {
      attachments.push_back({});
      file_ids.push_back({});
    }
    forwarded.push_back(m.forwarded_from ? own(forwarded_json(*m.forwarded_from)) : std::string_view{});
    scheduled.push_back(m.scheduled_for_ms ? own(std::to_string(*m.scheduled_for_ms)) : std::string_view{});
    if (proto::is_history_notice(m.event)) {
      events.push_back(proto::to_string(m.event));
      event_data.push_back(own(event_data_json(m)));
    } else {
      events.push_back({});
      event_data.push_back({});
    }
  }

  using detail::bigint_array;
  using detail::text_array;
  const auto inserted = tx.exec_params(
      insert_sql, bigint_array(ids), text_array(keys), bigint_array(room_ids), bigint_array(sender_ids),
      text_array(nicknames), text_array(contents), text_array(types), bigint_array(partitions), bigint_array(offsets),
      bigint_array(created), bigint_array(reply_to), bigint_array(roots), text_array(attachments), text_array(file_ids),
      text_array(forwarded), text_array(scheduled), text_array(events), text_array(event_data));
  out.inserted = static_cast<std::size_t>(inserted.size());
  if (out.inserted == 0) return;

  std::vector<std::int64_t> new_ids, new_rooms, new_senders, reply_roots, reply_rooms, reply_ms;
  for (const auto& row : inserted) {
    new_ids.push_back(row[0].as<std::int64_t>());
    new_rooms.push_back(row[1].as<std::int64_t>());
    new_senders.push_back(row[2].as<std::int64_t>());
    if (const auto root = row[3].as<std::int64_t>(); root != 0) {
      reply_roots.push_back(root);
      reply_rooms.push_back(new_rooms.back());
      reply_ms.push_back(row[4].as<std::int64_t>());
    }
  }
  if (!reply_roots.empty()) {
    tx.exec_params(replies_sql, bigint_array(reply_roots), bigint_array(reply_rooms), bigint_array(reply_ms));
  }
  // Only what history shows counts as unread (messages and SYSTEM notices): the other events never
  // reach this point.
  tx.exec_params(lock_members_sql, bigint_array(new_rooms));
  for (const auto& row :
       tx.exec_params(unread_sql, bigint_array(new_ids), bigint_array(new_rooms), bigint_array(new_senders))) {
    out.unread.push_back(unread_of(row));
  }
}

// The other room events: INSERT into room_events, then the fold over the new ones and its
// effects. Each statement runs only when it has rows.
void apply_events(pqxx::work& tx, std::span<const message_row> rows, const std::vector<std::size_t>& which,
                  const event_folder& fold, persisted& out) {
  using detail::bigint_array;
  using detail::text_array;
  std::unordered_map<std::int64_t, std::size_t> row_of_id;  // event id -> position in `rows`
  {
    std::vector<std::int64_t> ids, room_ids, sender_ids, targets, created;
    std::vector<std::string_view> keys, nicknames, events, contents, emojis, previews;
    std::deque<std::string> preview_json;  // owns what `previews` views (stable)
    for (const std::size_t i : which) {
      const auto& m = *rows[i].message;
      row_of_id.emplace(m.id, i);
      ids.push_back(m.id);
      keys.push_back(m.message_key);
      room_ids.push_back(m.room_id);
      sender_ids.push_back(m.sender_id);
      nicknames.push_back(m.sender_nickname);
      events.push_back(proto::to_string(m.event));
      targets.push_back(m.target_id);
      contents.push_back(m.content);
      emojis.push_back(m.emoji);
      created.push_back(m.created_at_ms);
      if (m.preview) {
        proto::append_json(*m.preview, preview_json.emplace_back());
        previews.push_back(preview_json.back());
      } else {
        previews.push_back({});
      }
    }
    std::vector<std::size_t> fresh;  // positions in `rows` of the new events
    for (const auto& row :
         tx.exec_params(insert_events_sql, bigint_array(ids), text_array(keys), bigint_array(room_ids),
                        bigint_array(sender_ids), text_array(nicknames), text_array(events), bigint_array(targets),
                        text_array(contents), text_array(emojis), bigint_array(created), text_array(previews))) {
      fresh.push_back(row_of_id.at(row[0].as<std::int64_t>()));
    }
    out.events_new = fresh.size();
    if (fresh.empty()) return;
    std::sort(fresh.begin(), fresh.end());  // partition order (RETURNING's order is not promised)
    row_of_id.clear();
    for (const std::size_t i : fresh) row_of_id.emplace(rows[i].message->id, i);
  }

  std::vector<const proto::chat_message*> fresh_events;
  std::vector<std::size_t> fresh_rows;
  std::vector<std::int64_t> target_ids;
  for (const std::size_t i : which) {
    if (!row_of_id.contains(rows[i].message->id)) continue;
    fresh_events.push_back(rows[i].message);
    fresh_rows.push_back(i);
    target_ids.push_back(rows[i].message->target_id);
  }
  std::vector<event_target> targets;
  for (const auto& row : tx.exec_params(targets_sql, bigint_array(target_ids))) {
    event_target t;
    t.id = row[0].as<std::int64_t>();
    t.room_id = row[1].as<std::int64_t>();
    t.sender_id = row[2].as<std::int64_t>();
    t.type = proto::parse_message_type(detail::text_of(row[3])).value_or(proto::message_type::text);
    t.deleted = row[4].as<bool>();
    t.created_at_ms = row[5].as<std::int64_t>();
    t.pinned = row[6].as<bool>();
    t.room_pin_count = row[7].as<int>();
    targets.push_back(t);
  }

  const event_effects effects = fold(fresh_events, targets);

  if (!effects.messages.empty()) {
    std::vector<std::int64_t> ids, edited_ms, deleted_ids;
    std::vector<std::string_view> contents;
    std::vector<bool> edited, deleted;
    for (const auto& u : effects.messages) {
      ids.push_back(u.id);
      contents.push_back(u.content);
      edited.push_back(u.edited_at_ms.has_value());
      edited_ms.push_back(u.edited_at_ms.value_or(0));
      deleted.push_back(u.deleted);
    }
    tx.exec_params(update_messages_sql, bigint_array(ids), text_array(contents), bool_array(edited),
                   bigint_array(edited_ms), bool_array(deleted));
  }
  std::vector<std::int64_t> cleared;  // deleted targets: every reaction goes
  for (const auto& u : effects.messages) {
    if (u.deleted) cleared.push_back(u.id);
  }
  if (!cleared.empty() || !effects.reactions_removed.empty()) {
    std::vector<std::int64_t> ids, users;
    std::vector<std::string_view> emojis;
    for (const auto& r : effects.reactions_removed) {
      ids.push_back(r.message_id);
      emojis.push_back(r.emoji);
      users.push_back(r.user_id);
    }
    tx.exec_params(delete_reactions_sql, bigint_array(cleared), bigint_array(ids), text_array(emojis),
                   bigint_array(users));
  }
  if (!effects.reactions_added.empty()) {
    std::vector<std::int64_t> ids, users, event_ids;
    std::vector<std::string_view> emojis;
    for (const auto& r : effects.reactions_added) {
      ids.push_back(r.message_id);
      emojis.push_back(r.emoji);
      users.push_back(r.user_id);
      event_ids.push_back(r.event_id);
    }
    tx.exec_params(insert_reactions_sql, bigint_array(ids), text_array(emojis), bigint_array(users),
                   bigint_array(event_ids));
  }
  if (!effects.previews.empty()) {
    std::vector<std::int64_t> ids;
    std::deque<std::string> json;
    std::vector<std::string_view> values;
    for (const auto& p : effects.previews) {
      ids.push_back(p.message_id);
      proto::append_json(p.value, json.emplace_back());
      values.push_back(json.back());
    }
    tx.exec_params(update_previews_sql, bigint_array(ids), text_array(values));
  }
  if (!effects.unpinned.empty()) tx.exec_params(delete_pins_sql, bigint_array(effects.unpinned));
  if (!effects.pinned.empty()) {
    std::vector<std::int64_t> rooms, ids, by, at;
    for (const auto& p : effects.pinned) {
      rooms.push_back(p.room_id);
      ids.push_back(p.message_id);
      by.push_back(p.pinned_by);
      at.push_back(p.pinned_at_ms);
    }
    tx.exec_params(insert_pins_sql, bigint_array(rooms), bigint_array(ids), bigint_array(by), bigint_array(at));
  }
  if (!effects.dropped.empty()) {
    std::vector<std::int64_t> ids;
    for (const auto& d : effects.dropped) {
      ids.push_back(fresh_events[d.position]->id);
      out.events_dropped.push_back({fresh_rows[d.position], d.reason});
    }
    tx.exec_params(not_applied_sql, bigint_array(ids));
  }
}

void write_progress(pqxx::work& tx, std::span<const partition_progress> progress) {
  std::vector<partition_progress> sorted(progress.begin(), progress.end());
  std::sort(sorted.begin(), sorted.end(),
            [](const partition_progress& a, const partition_progress& b) { return a.partition < b.partition; });
  std::vector<std::int64_t> partitions, offsets;
  for (const auto& p : sorted) {
    partitions.push_back(p.partition);
    offsets.push_back(p.next_offset);
  }
  tx.exec_params(progress_sql, std::string(proto::topics::messages), detail::bigint_array(partitions),
                 detail::bigint_array(offsets));
}

persisted persist_in(pqxx::connection& conn, std::span<const message_row> rows, const event_folder& fold,
                     std::span<const partition_progress> progress) {
  persisted out;
  pqxx::work tx(conn);

  std::vector<std::int64_t> rooms;
  std::vector<std::int64_t> senders;
  for (const auto& r : rows) {
    rooms.push_back(r.message->room_id);
    senders.push_back(r.message->sender_id);
  }
  std::unordered_set<std::int64_t> known_rooms;
  std::unordered_set<std::int64_t> deleted_rooms;
  std::unordered_set<std::int64_t> known_users;
  for (const auto& row : tx.exec_params(lock_rooms_sql, detail::bigint_array(rooms))) {
    known_rooms.insert(row[0].as<std::int64_t>());
  }
  for (const auto& row : tx.exec_params(known_ids_sql, detail::bigint_array(rooms), detail::bigint_array(senders))) {
    (row[0].c_str()[0] == 'd' ? deleted_rooms : known_users).insert(row[1].as<std::int64_t>());
  }

  std::vector<std::size_t> messages;  // positions in `rows`, in order
  std::vector<std::size_t> events;
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const auto& m = *rows[i].message;
    if (!known_rooms.contains(m.room_id)) {
      if (deleted_rooms.contains(m.room_id)) {
        out.records_dropped.push_back({i, "room_deleted"});
      } else {
        out.unknown_room.push_back(i);
      }
      continue;
    }
    if (!known_users.contains(m.sender_id)) {
      out.unknown_sender.push_back(i);
      continue;
    }
    if (m.event == proto::event_kind::room_deleted) {
      out.records_dropped.push_back({i, "room_exists"});
      continue;
    }
    const bool stored_as_message = m.event == proto::event_kind::message || proto::is_history_notice(m.event);
    (stored_as_message ? messages : events).push_back(i);
  }
  // Messages first: an event's target precedes it in its partition, so an event of this batch
  // may target a message of this batch; nothing else depends on the order between the two.
  if (!messages.empty()) insert_messages(tx, rows, messages, out);
  if (!events.empty()) apply_events(tx, rows, events, fold, out);
  // Last: its row locks are held for the shortest time.
  if (!progress.empty()) write_progress(tx, progress);
  tx.commit();
  return out;
}

void progress_in(pqxx::connection& conn, std::span<const partition_progress> progress) {
  pqxx::work tx(conn);
  write_progress(tx, progress);
  tx.commit();
}

std::vector<unread_change> apply_in(pqxx::connection& conn, std::span<const read_mark> marks) {
  std::vector<std::int64_t> rooms, users, last_reads;
  for (const auto& m : marks) {
    rooms.push_back(m.room_id);
    users.push_back(m.user_id);
    last_reads.push_back(m.last_read_message_id);
  }
  using detail::bigint_array;
  std::vector<unread_change> out;
  pqxx::work tx(conn);
  std::map<std::pair<std::int64_t, std::int64_t>, std::int64_t> marks_before;
  for (const auto& row : tx.exec_params(lock_marks_sql, bigint_array(rooms), bigint_array(users))) {
    marks_before[{row[0].as<std::int64_t>(), row[1].as<std::int64_t>()}] = row[2].as<std::int64_t>();
  }
  for (const auto& row :
       tx.exec_params(update_marks_sql, bigint_array(rooms), bigint_array(users), bigint_array(last_reads))) {
    auto change = unread_of(row);
    const auto before = marks_before.find({change.room_id, change.user_id});
    change.mark_moved = before == marks_before.end() || change.last_read_message_id > before->second;
    out.push_back(change);
  }
  tx.commit();
  return out;
}

int timeout_seconds(std::chrono::milliseconds timeout) {
  return static_cast<int>(std::max<std::int64_t>(1, (timeout.count() + 999) / 1000));
}

// Runs `work(pqxx::connection&)` on `db`'s connection; drops the connection after a failure
// that is not about the data (it may be broken, or in an unknown state).
template <class Work>
auto on_connection(connection& db, Work work) -> result<std::invoke_result_t<Work&, pqxx::connection&>> {
  std::string connect_error;
  session* s = db.get(connect_error);
  if (s == nullptr) return chat::unexpected(error{errc::unavailable, {}, std::move(connect_error)});
  auto out = detail::guarded([&] { return work(s->native<pqxx::connection>()); });
  if (!out && !out.error().about_the_data()) db.reset();
  return out;
}

class pg_message_writer final : public message_writer {
 public:
  pg_message_writer(std::string url, std::string_view application_name, std::chrono::milliseconds connect_timeout)
      : db_(with_session_parameters(std::move(url), application_name), timeout_seconds(connect_timeout)) {}

  result<persisted> persist(std::span<const message_row> rows, const event_folder& fold,
                            std::span<const partition_progress> progress) override {
    return on_connection(
        db_, [rows, &fold, progress](pqxx::connection& conn) { return persist_in(conn, rows, fold, progress); });
  }

  result<void> record_progress(std::span<const partition_progress> progress) override {
    auto out = on_connection(db_, [progress](pqxx::connection& conn) {
      progress_in(conn, progress);
      return 0;
    });
    if (!out) return chat::unexpected(std::move(out.error()));
    return {};
  }

 private:
  connection db_;
};

class pg_read_mark_writer final : public read_mark_writer {
 public:
  pg_read_mark_writer(std::string url, std::string_view application_name, std::chrono::milliseconds connect_timeout)
      : db_(with_session_parameters(std::move(url), application_name), timeout_seconds(connect_timeout)) {}

  result<std::vector<unread_change>> apply(std::span<const read_mark> marks) override {
    return on_connection(db_, [marks](pqxx::connection& conn) { return apply_in(conn, marks); });
  }

 private:
  connection db_;
};

}  // namespace

std::unique_ptr<message_writer> make_pg_message_writer(std::string url, std::string application_name,
                                                       std::chrono::milliseconds connect_timeout) {
  return std::make_unique<pg_message_writer>(std::move(url), application_name, connect_timeout);
}

std::unique_ptr<read_mark_writer> make_pg_read_mark_writer(std::string url, std::string application_name,
                                                           std::chrono::milliseconds connect_timeout) {
  return std::make_unique<pg_read_mark_writer>(std::move(url), application_name, connect_timeout);
}

}  // namespace chat::store
