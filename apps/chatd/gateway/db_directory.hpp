#pragma once
// Adapter: the gateway's `directory` port on the database worker pool. Lookups run on a
// db_pool worker; results are handed to the callback there (the session posts them back to
// its strand). A full queue or an unreachable database answers `unavailable` at once.
#include "gateway/ports.hpp"
#include "store/db_pool.hpp"

namespace chat::gateway {

class db_directory final : public directory {
 public:
  explicit db_directory(store::db_pool& pool) : pool_(pool) {}

  void nickname(std::int64_t user_id, std::function<void(lookup_status, std::string)> done) override;
  void membership(std::int64_t room_id, std::int64_t user_id, std::function<void(lookup_status)> done) override;
  void contacts(std::int64_t user_id, std::function<void(lookup_status, std::vector<std::int64_t>)> done) override;
  void event_context(std::int64_t room_id, std::int64_t user_id, std::int64_t target_id,
                     std::function<void(lookup_status, chatd::target_context)> done) override;
  void attachable_file(std::string file_id, std::int64_t user_id,
                       std::function<void(lookup_status, proto::file_attachment)> done) override;
  void hide_message(std::int64_t user_id, std::int64_t room_id, std::int64_t message_id,
                    std::function<void(lookup_status)> done) override;

 private:
  store::db_pool& pool_;
};

}  // namespace chat::gateway
