#include "gateway/db_directory.hpp"

#include "store/membership.hpp"

#include <chat/log/log.hpp>

#include <memory>

namespace chat::gateway {

namespace {

// Submits `work(conn)` -> R; calls done(status, R). Exactly once, whatever happens: the job
// is shared between the queue and the refusal path so that a refused submit can still
// answer.
template <class R, class Work, class Done>
void run_lookup(store::db_pool& pool, std::string_view what, Work work, Done done) {
  auto shared_done = std::make_shared<Done>(std::move(done));
  const bool queued = pool.submit([shared_done, work = std::move(work), what](store::db_context& ctx) {
    if (ctx.pg == nullptr) return (*shared_done)(lookup_status::unavailable, R{});
    try {
      auto [status, value] = work(*ctx.pg);
      (*shared_done)(status, std::move(value));
    } catch (const std::exception& e) {
      log::warn("gateway lookup failed", {{"lookup", what}, {"error", e.what()}});
      (*shared_done)(lookup_status::unavailable, R{});
    }
  });
  if (!queued) (*shared_done)(lookup_status::unavailable, R{});
}

}  // namespace

void db_directory::nickname(std::int64_t user_id, std::function<void(lookup_status, std::string)> done) {
  run_lookup<std::string>(
      pool_, "nickname",
      [user_id](pqxx::connection& conn) {
        auto nick = store::nickname_of(conn, user_id);
        return std::pair{nick ? lookup_status::found : lookup_status::not_found, nick.value_or(std::string{})};
      },
      std::move(done));
}

void db_directory::membership(std::int64_t room_id, std::int64_t user_id, std::function<void(lookup_status)> done) {
  run_lookup<int>(
      pool_, "membership",
      [room_id, user_id](pqxx::connection& conn) {
        return std::pair{store::is_member(conn, room_id, user_id) ? lookup_status::found : lookup_status::not_found, 0};
      },
      [done = std::move(done)](lookup_status status, int) { done(status); });
}

void db_directory::contacts(std::int64_t user_id,
                            std::function<void(lookup_status, std::vector<std::int64_t>)> done) {
  run_lookup<std::vector<std::int64_t>>(
      pool_, "contacts",
      [user_id](pqxx::connection& conn) { return std::pair{lookup_status::found, store::contacts_of_user(conn, user_id)}; },
      std::move(done));
}

}  // namespace chat::gateway
