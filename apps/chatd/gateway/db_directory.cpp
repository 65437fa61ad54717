#include "gateway/db_directory.hpp"

#include "gateway/fanout_hub.hpp"
#include "store/blocks.hpp"
#include "store/files.hpp"
#include "store/hidden_messages.hpp"
#include "store/membership.hpp"
#include "store/recovery.hpp"
#include "store/rooms.hpp"
#include "store/targets.hpp"

#include <chat/log/log.hpp>

#include <memory>

namespace chat::gateway {

namespace {

// Submits `work(session, redis)` -> store::result<pair<lookup_status, R>>; calls done(status, R).
// Exactly once, whatever happens: the job is shared between the queue and the refusal path
// so that a refused submit can still answer. A store error answers `unavailable`.
template <class R, class Work, class Done>
void run_lookup(store::db_pool& pool, std::string_view what, Work work, Done done) {
  auto shared_done = std::make_shared<Done>(std::move(done));
  const bool queued = pool.submit([shared_done, work = std::move(work), what](store::db_context& ctx) {
    if (ctx.db == nullptr) return (*shared_done)(lookup_status::unavailable, R{});
    auto found = work(*ctx.db, ctx.redis);
    if (!found) {
      log::warn("gateway lookup failed", {{"lookup", what}, {"error", found.error().message}});
      return (*shared_done)(lookup_status::unavailable, R{});
    }
    (*shared_done)(found->first, std::move(found->second));
  });
  if (!queued) (*shared_done)(lookup_status::unavailable, R{});
}

proto::room_summary feed_row_of(store::room_summary&& r) {
  return {r.id,
          r.type == store::room_type::direct ? proto::room_type::direct : proto::room_type::group,
          std::move(r.name),
          r.member_count,
          r.unread_count,
          std::move(r.last_message)};
}

}  // namespace

void db_directory::nickname(std::int64_t user_id, std::function<void(lookup_status, std::string)> done) {
  run_lookup<std::string>(
      pool_, "nickname",
      [user_id](store::session& db, redis::client&) -> store::result<std::pair<lookup_status, std::string>> {
        auto nick = store::nickname_of(db, user_id);
        if (!nick) return chat::unexpected(std::move(nick.error()));
        return std::pair{*nick ? lookup_status::found : lookup_status::not_found, nick->value_or(std::string{})};
      },
      std::move(done));
}

void db_directory::connecting_user(std::int64_t user_id,
                                   std::function<void(lookup_status, connecting_user_info)> done) {
  run_lookup<connecting_user_info>(
      pool_, "connecting user",
      [user_id](store::session& db, redis::client&) -> store::result<std::pair<lookup_status, connecting_user_info>> {
        auto nick = store::nickname_of(db, user_id);
        if (!nick) return chat::unexpected(std::move(nick.error()));
        if (!*nick) return std::pair{lookup_status::not_found, connecting_user_info{}};
        auto rooms = store::member_rooms_of_user(db, user_id, max_connect_rooms);
        if (!rooms) return chat::unexpected(std::move(rooms.error()));
        auto blocks = store::blocked_ids(db, user_id, static_cast<std::size_t>(proto::max_blocks_per_user));
        if (!blocks) return chat::unexpected(std::move(blocks.error()));
        connecting_user_info info;
        info.nickname = std::move(**nick);
        info.rooms.reserve(rooms->size());
        for (const auto& r : *rooms) info.rooms.push_back({r.room_id, room_gate{r.direct_peer, r.blocked}});
        info.blocks = std::move(*blocks);
        return std::pair{lookup_status::found, std::move(info)};
      },
      std::move(done));
}

void db_directory::membership(std::int64_t room_id, std::int64_t user_id,
                              std::function<void(lookup_status, room_gate)> done) {
  run_lookup<room_gate>(
      pool_, "membership",
      [room_id, user_id](store::session& db, redis::client&) -> store::result<std::pair<lookup_status, room_gate>> {
        auto member = store::membership_of(db, room_id, user_id);
        if (!member) return chat::unexpected(std::move(member.error()));
        if (!*member) return std::pair{lookup_status::not_found, room_gate{}};
        return std::pair{lookup_status::found, room_gate{(*member)->direct_peer, (*member)->blocked}};
      },
      std::move(done));
}

void db_directory::contacts(std::int64_t user_id, std::function<void(lookup_status, std::vector<std::int64_t>)> done) {
  run_lookup<std::vector<std::int64_t>>(
      pool_, "contacts",
      [user_id](store::session& db,
                redis::client&) -> store::result<std::pair<lookup_status, std::vector<std::int64_t>>> {
        auto contacts = store::contacts_of_user(db, user_id);
        if (!contacts) return chat::unexpected(std::move(contacts.error()));
        return std::pair{lookup_status::found, std::move(*contacts)};
      },
      std::move(done));
}

void db_directory::event_context(std::int64_t room_id, std::int64_t user_id, std::int64_t target_id,
                                 std::function<void(lookup_status, chatd::target_context)> done) {
  run_lookup<chatd::target_context>(
      pool_, "event context",
      [room_id, user_id, target_id, recent = recent_](
          store::session& db, redis::client&) -> store::result<std::pair<lookup_status, chatd::target_context>> {
        auto ctx = store::load_target_context(db, room_id, user_id, target_id, recent, store::pending_target_wait);
        if (!ctx) return chat::unexpected(std::move(ctx.error()));
        return std::pair{lookup_status::found, std::move(*ctx)};
      },
      std::move(done));
}

void db_directory::attachable_file(std::string file_id, std::int64_t user_id,
                                   std::function<void(lookup_status, proto::file_attachment)> done) {
  run_lookup<proto::file_attachment>(
      pool_, "attachable file",
      [file_id = std::move(file_id), user_id](
          store::session& db, redis::client&) -> store::result<std::pair<lookup_status, proto::file_attachment>> {
        auto meta = store::readable_file(db, file_id, user_id);
        if (!meta) return chat::unexpected(std::move(meta.error()));
        if (!*meta) return std::pair{lookup_status::not_found, proto::file_attachment{}};
        proto::file_attachment a;
        a.name = (*meta)->name;
        a.size = (*meta)->size;
        a.mime_type = (*meta)->mime_type;
        a.width = (*meta)->width;
        a.height = (*meta)->height;
        return std::pair{lookup_status::found, std::move(a)};
      },
      std::move(done));
}

void db_directory::hide_message(std::int64_t user_id, std::int64_t room_id, std::int64_t message_id,
                                std::function<void(lookup_status)> done) {
  run_lookup<int>(
      pool_, "hide message",
      [user_id, room_id, message_id](store::session& db,
                                     redis::client& redis) -> store::result<std::pair<lookup_status, int>> {
        // The hidden row points at the stored message: wait (≤500 ms) for one the node knew
        // before the store did. Delete-for-me is rare; other events never wait.
        auto stored = store::load_target_context(db, room_id, user_id, message_id, nullptr, store::pending_row_wait);
        if (!stored) return chat::unexpected(std::move(stored.error()));
        auto hidden = store::hide_message(db, user_id, room_id, message_id);
        if (!hidden) return chat::unexpected(std::move(hidden.error()));
        // Told even when it was hidden before: a retry after a lost notice tells again.
        if (!store::publish_message_hidden(redis, user_id, room_id, message_id)) {
          log::warn("message.hidden not published (Redis): the user's other sessions learn it from history",
                    {{"user", user_id}, {"error", redis.last_error()}});
        }
        return std::pair{lookup_status::found, 0};
      },
      [done = std::move(done)](lookup_status status, int) { done(status); });
}

void db_directory::recovery(std::int64_t room_id, std::int64_t user_id, std::int64_t after_id, std::int32_t partition,
                            std::int64_t stored_through, int limit,
                            std::function<void(lookup_status, recovery_page)> done) {
  run_lookup<recovery_page>(
      pool_, "recovery",
      [=](store::session& db, redis::client&) -> store::result<std::pair<lookup_status, recovery_page>> {
        auto rows = store::load_recovery(db, room_id, user_id, after_id, partition, stored_through, limit);
        if (!rows) return chat::unexpected(std::move(rows.error()));
        recovery_page page;
        page.ready = rows->ready;
        page.truncated = rows->truncated;
        // Rendered here, on the worker, as live delivery renders them (the I/O thread only queues).
        page.events.reserve(rows->events.size());
        std::string json;
        for (const auto& m : rows->events) {
          json.clear();
          proto::append_json(m, json);
          page.events.push_back(make_room_event(m, json));
        }
        return std::pair{lookup_status::found, std::move(page)};
      },
      std::move(done));
}

void db_directory::room_list(std::int64_t user_id, std::function<void(lookup_status, room_list_page)> done) {
  run_lookup<room_list_page>(
      pool_, "room list",
      [user_id](store::session& db, redis::client&) -> store::result<std::pair<lookup_status, room_list_page>> {
        // Blocks first: a block made between the two reads then hides at most one message more
        // than the list shows, never one less (the feed also hears the change on chat:blocks).
        auto blocks = store::blocked_ids(db, user_id, static_cast<std::size_t>(proto::max_blocks_per_user));
        if (!blocks) return chat::unexpected(std::move(blocks.error()));
        auto rooms = store::list_rooms(db, user_id);
        if (!rooms) return chat::unexpected(std::move(rooms.error()));
        room_list_page out;
        out.blocks = std::move(*blocks);
        out.rooms.reserve(rooms->size());
        for (auto& r : *rooms) out.rooms.push_back(feed_row_of(std::move(r)));
        return std::pair{lookup_status::found, std::move(out)};
      },
      std::move(done));
}

void db_directory::room_summary(std::int64_t user_id, std::int64_t room_id,
                                std::function<void(lookup_status, std::optional<proto::room_summary>)> done) {
  run_lookup<std::optional<proto::room_summary>>(
      pool_, "room summary",
      [user_id, room_id](store::session& db, redis::client&)
          -> store::result<std::pair<lookup_status, std::optional<proto::room_summary>>> {
        auto room = store::room_summary_of(db, user_id, room_id);
        if (!room) return chat::unexpected(std::move(room.error()));
        if (!*room) return std::pair{lookup_status::not_found, std::optional<proto::room_summary>{}};
        return std::pair{lookup_status::found, std::optional<proto::room_summary>{feed_row_of(std::move(**room))}};
      },
      std::move(done));
}

}  // namespace chat::gateway
