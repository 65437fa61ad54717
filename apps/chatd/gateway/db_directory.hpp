#pragma once
// Adapter: the gateway's `directory` port on the database worker pool. Lookups run on a
// db_pool worker; results are handed to the callback there (the session posts them back to
// its strand). A full queue or an unreachable database answers `unavailable` at once.
#include "core/recent_messages.hpp"
#include "gateway/ports.hpp"
#include "store/db_pool.hpp"

namespace chat::gateway {

class db_directory final : public directory {
 public:
  // `recent`: what this node saw acknowledged or live (event_context's targets the store does
  // not have yet); may be null. Outlives this.
  db_directory(store::db_pool& pool, const chatd::recent_messages* recent) : pool_(pool), recent_(recent) {}

  void nickname(std::int64_t user_id, std::function<void(lookup_status, std::string)> done) override;
  void connecting_user(std::int64_t user_id, std::function<void(lookup_status, connecting_user_info)> done) override;
  void membership(std::int64_t room_id, std::int64_t user_id,
                  std::function<void(lookup_status, room_gate)> done) override;
  void contacts(std::int64_t user_id, std::function<void(lookup_status, std::vector<std::int64_t>)> done) override;
  void event_context(std::int64_t room_id, std::int64_t user_id, std::int64_t target_id,
                     std::function<void(lookup_status, chatd::target_context)> done) override;
  void attachable_file(std::string file_id, std::int64_t user_id,
                       std::function<void(lookup_status, proto::file_attachment)> done) override;
  void hide_message(std::int64_t user_id, std::int64_t room_id, std::int64_t message_id,
                    std::function<void(lookup_status)> done) override;
  void recovery(std::int64_t room_id, std::int64_t user_id, std::int64_t after_id, std::int32_t partition,
                std::int64_t stored_through, int limit,
                std::function<void(lookup_status, recovery_page)> done) override;
  void room_list(std::int64_t user_id, std::function<void(lookup_status, room_list_page)> done) override;
  void room_summary(std::int64_t user_id, std::int64_t room_id,
                    std::function<void(lookup_status, std::optional<proto::room_summary>)> done) override;

 private:
  store::db_pool& pool_;
  const chatd::recent_messages* recent_;
};

}  // namespace chat::gateway
